#!/bin/sh
# Entrypoint of the otel-harness Kafka image (busybox sh): formats the node's storage, then runs the
# broker and controller (KRaft, combined mode) in the foreground, logging to the console.
#
#   server.properties  $KAFKA_CONFIG_FILE, else the mounted /mnt/shared/config/server.properties (where
#                      the upstream apache/kafka image reads mounted configs), else the single-node
#                      default /etc/kafka/docker/server.properties.
#   CLUSTER_ID         the cluster id storage is formatted with (the upstream image's variable).
#   KAFKA_HEAP_OPTS, KAFKA_JVM_PERFORMANCE_OPTS, KAFKA_OPTS
#                      as kafka-server-start.sh reads them; defaults sized for a small test machine.
#   KAFKA_METRICS_PORT the Prometheus JMX exporter's HTTP port (default 9404, path /metrics).
#
# Formatting is idempotent (--ignore-formatted), so a restarted container keeps its data.
set -eu

config="${KAFKA_CONFIG_FILE:-}"
if [ -z "$config" ]; then
  if [ -f /mnt/shared/config/server.properties ]; then
    config=/mnt/shared/config/server.properties
  else
    config=/etc/kafka/docker/server.properties
  fi
fi
if [ ! -r "$config" ]; then
  echo "kafka: cannot read the server configuration $config" >&2
  exit 2
fi

cluster_id="${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}"
classpath='/opt/kafka/libs/*'
log4j='-Dlog4j.configuration=file:/opt/kafka/config/log4j.properties'

echo "kafka: formatting storage for cluster ${cluster_id} with ${config} (kept if already formatted)"
java -Xmx256m "$log4j" -cp "$classpath" kafka.tools.StorageTool format \
  -t "$cluster_id" -c "$config" --ignore-formatted

# Word splitting of the option variables is intended (several options each).
# shellcheck disable=SC2086
exec java \
  ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} \
  ${KAFKA_JVM_PERFORMANCE_OPTS:--server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true} \
  "$log4j" \
  "-javaagent:/opt/jmx-exporter/jmx_prometheus_javaagent.jar=${KAFKA_METRICS_PORT:-9404}:/opt/jmx-exporter/kafka.yaml" \
  ${KAFKA_OPTS:-} \
  -cp "$classpath" kafka.Kafka "$config"
