# Prometheus from Debian's own package, for deploy/docker-compose.yml: no
# registry image needed, the same base as memserver's image.
#
#   docker build -f deploy/docker/prometheus.Dockerfile -t memserver-prometheus deploy/docker
FROM debian:bookworm
# Packages must not start services inside a build.
RUN printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /usr/sbin/policy-rc.d \
 && mkdir -p /prometheus && chown prometheus:prometheus /prometheus
COPY prometheus.yml /etc/prometheus/prometheus.yml
USER prometheus
VOLUME /prometheus
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus", "--config.file=/etc/prometheus/prometheus.yml", \
            "--storage.tsdb.path=/prometheus", "--web.listen-address=:9090"]
