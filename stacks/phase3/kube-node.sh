#!/bin/bash
# Boots a single-node Kubernetes cluster inside this (privileged) container, from the upstream binaries:
# PKI and kubeconfigs (kubeadm's init phases), etcd, kube-apiserver, kube-controller-manager (it runs the
# HPA controller), kube-scheduler, containerd with the images found in /var/lib/kube-node/images,
# kubelet and kube-proxy. Every component logs to /var/log/kubernetes/<name>.log; the first one to exit
# stops the node (its exit is logged), SIGTERM stops them all.
#
# Settings (environment):
#   KUBE_NODE_NAME            node name (default: the container's hostname)
#   KUBE_APISERVER_SANS       extra names/addresses in the API server's certificate (default 127.0.0.1,localhost)
#   KUBE_CONTROLLER_MANAGER_ARGS  extra kube-controller-manager flags, space separated (HPA sync period, …)
#   KUBE_SYSTEM_RESERVED_CPU  CPU the kubelet keeps from pods (default 0)
#   KUBE_CGROUP_ROOT          the pods' cgroup root on the host (default /kube-node-<node name>)
set -euo pipefail

VERSION=v1.34.4
PKI=/etc/kubernetes/pki
LOGS=/var/log/kubernetes
NODE=${KUBE_NODE_NAME:-$(hostname)}
IP=$(hostname -i | cut -d' ' -f1)
SANS=${KUBE_APISERVER_SANS:-127.0.0.1,localhost}
SERVICE_CIDR=10.96.0.0/16
POD_CIDR=10.244.0.0/16
CGROUP_ROOT=${KUBE_CGROUP_ROOT:-/kube-node-$NODE}
mkdir -p "$LOGS" "$PKI"

say() { echo "kube-node: $*"; }
pids=()
names=()
start() {
  local name=$1
  shift
  say "starting $name"
  "$@" >>"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}
stop_all() {
  say "stopping"
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[$i]}" 2>/dev/null || true; done
  sleep 2
  # Whatever is left (containerd shims, the pods' processes) — this script is the namespace's init.
  kill -KILL -1 2>/dev/null || true
  wait || true
  sleep 1
  # The pods' cgroups, empty now, would otherwise stay behind on the host.
  for hierarchy in /sys/fs/cgroup/*/; do
    [ -d "$hierarchy${CGROUP_ROOT#/}" ] && find "$hierarchy${CGROUP_ROOT#/}" -depth -type d -exec rmdir {} + 2>/dev/null
  done
  exit 0
}
trap stop_all TERM INT

wait_for() {
  local what=$1 tries=$2
  shift 2
  for ((n = 0; n < tries; n++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  say "$what did not come up; its log:"
  tail -n 40 "$LOGS/$what.log" || true
  exit 1
}

# --- kernel settings of this network namespace -----------------------------------------------------------
echo 1 >/proc/sys/net/ipv4/ip_forward
[ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] && echo 1 >/proc/sys/net/bridge/bridge-nf-call-iptables || true
# A packet to a Service address that kube-proxy has not translated (its rules for a new Service are not
# written yet) would leave by the default route, and the networks outside may answer for that address
# (another cluster's service range): a connection made then stays with whatever answered. Refused here
# instead; translated packets carry a pod's address by the time these filter chains see them.
iptables -w -I FORWARD -d "$SERVICE_CIDR" -j REJECT
iptables -w -I OUTPUT -d "$SERVICE_CIDR" -j REJECT
# The kubelet's OOM watcher reads the kernel log; the harness passes the host's /dev/kmsg in.
[ -e /dev/kmsg ] || { say "/dev/kmsg is missing (run the node with --device /dev/kmsg)"; exit 1; }
[ -s /etc/machine-id ] || tr -d - </proc/sys/kernel/random/uuid >/etc/machine-id
# The pods' cgroups live under one root per node (cgroupfs driver), created in every v1 hierarchy.
for hierarchy in /sys/fs/cgroup/*/; do
  [ -L "${hierarchy%/}" ] || mkdir -p "$hierarchy${CGROUP_ROOT#/}"
done
if [ -f /sys/fs/cgroup/cpuset/cpuset.cpus ]; then
  cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset${CGROUP_ROOT}/cpuset.cpus"
  cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset${CGROUP_ROOT}/cpuset.mems"
fi

# --- PKI and kubeconfigs -----------------------------------------------------------------------------------
cat >/etc/kubernetes/kubeadm.yaml <<EOF
apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint: { advertiseAddress: $IP, bindPort: 6443 }
nodeRegistration: { name: $NODE, criSocket: unix:///run/containerd/containerd.sock }
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: $VERSION
clusterName: otel-harness
controlPlaneEndpoint: $IP:6443
certificatesDir: $PKI
networking: { serviceSubnet: $SERVICE_CIDR, podSubnet: $POD_CIDR, dnsDomain: cluster.local }
apiServer:
  certSANs: [$(echo "$SANS" | sed 's/,/, /g'), $IP, $NODE]
EOF
kubeadm init phase certs all --config /etc/kubernetes/kubeadm.yaml >"$LOGS/kubeadm.log" 2>&1
kubeadm init phase kubeconfig all --config /etc/kubernetes/kubeadm.yaml >>"$LOGS/kubeadm.log" 2>&1
say "PKI and kubeconfigs written"

# --- etcd and the control plane ----------------------------------------------------------------------------
start etcd etcd --name "$NODE" --data-dir /var/lib/etcd \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster "$NODE=http://127.0.0.1:2380" --listen-metrics-urls http://127.0.0.1:2381
wait_for etcd 120 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2379'

start kube-apiserver kube-apiserver --advertise-address="$IP" --bind-address=0.0.0.0 --secure-port=6443 \
  --allow-privileged=true --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
  --client-ca-file=$PKI/ca.crt --tls-cert-file=$PKI/apiserver.crt --tls-private-key-file=$PKI/apiserver.key \
  --etcd-servers=http://127.0.0.1:2379 \
  --kubelet-client-certificate=$PKI/apiserver-kubelet-client.crt \
  --kubelet-client-key=$PKI/apiserver-kubelet-client.key --kubelet-preferred-address-types=InternalIP \
  --proxy-client-cert-file=$PKI/front-proxy-client.crt --proxy-client-key-file=$PKI/front-proxy-client.key \
  --requestheader-allowed-names=front-proxy-client --requestheader-client-ca-file=$PKI/front-proxy-ca.crt \
  --requestheader-extra-headers-prefix=X-Remote-Extra- --requestheader-group-headers=X-Remote-Group \
  --requestheader-username-headers=X-Remote-User --enable-aggregator-routing=true \
  --service-account-issuer=https://kubernetes.default.svc.cluster.local \
  --service-account-key-file=$PKI/sa.pub --service-account-signing-key-file=$PKI/sa.key \
  --service-cluster-ip-range=$SERVICE_CIDR
wait_for kube-apiserver 240 kubectl --kubeconfig /etc/kubernetes/super-admin.conf get --raw /readyz

# shellcheck disable=SC2086 # extra flags are split on purpose
start kube-controller-manager kube-controller-manager --kubeconfig=/etc/kubernetes/controller-manager.conf \
  --authentication-kubeconfig=/etc/kubernetes/controller-manager.conf \
  --authorization-kubeconfig=/etc/kubernetes/controller-manager.conf \
  --bind-address=127.0.0.1 --client-ca-file=$PKI/ca.crt --requestheader-client-ca-file=$PKI/front-proxy-ca.crt \
  --cluster-name=otel-harness --cluster-signing-cert-file=$PKI/ca.crt --cluster-signing-key-file=$PKI/ca.key \
  --root-ca-file=$PKI/ca.crt --service-account-private-key-file=$PKI/sa.key \
  --use-service-account-credentials=true --leader-elect=false --controllers='*' \
  ${KUBE_CONTROLLER_MANAGER_ARGS:-}
start kube-scheduler kube-scheduler --kubeconfig=/etc/kubernetes/scheduler.conf \
  --authentication-kubeconfig=/etc/kubernetes/scheduler.conf \
  --authorization-kubeconfig=/etc/kubernetes/scheduler.conf --bind-address=127.0.0.1 --leader-elect=false

# --- the node: containerd (with the images), kubelet, kube-proxy -------------------------------------------
start containerd containerd --config /etc/containerd/config.toml
wait_for containerd 120 ctr --address /run/containerd/containerd.sock version
for image in /var/lib/kube-node/images/*.tar; do
  [ -e "$image" ] || continue
  say "importing $(basename "$image")"
  ctr --address /run/containerd/containerd.sock -n k8s.io images import --no-unpack "$image" >>"$LOGS/images.log" 2>&1
done

cat >/var/lib/kubelet/config.yaml <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
failCgroupV1: false
cgroupRoot: $CGROUP_ROOT
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
clusterDomain: cluster.local
clusterDNS: []
healthzBindAddress: 0.0.0.0
failSwapOn: false
resolvConf: /etc/resolv.conf
serializeImagePulls: false
evictionHard: { memory.available: 100Mi, nodefs.available: 2%, imagefs.available: 2% }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
systemReserved: { cpu: '${KUBE_SYSTEM_RESERVED_CPU:-0}' }
EOF
start kubelet kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf \
  --hostname-override="$NODE" --node-ip="$IP"

cat >/var/lib/kube-node-proxy.yaml <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: /etc/kubernetes/super-admin.conf }
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE
healthzBindAddress: 0.0.0.0:10256
conntrack: { maxPerCore: 0 }
EOF
start kube-proxy kube-proxy --config=/var/lib/kube-node-proxy.yaml

say "started; waiting on the components"
set +e
wait -n
code=$?
for ((i = 0; i < ${#pids[@]}; i++)); do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    say "${names[$i]} exited ($code); its last lines:"
    tail -n 30 "$LOGS/${names[$i]}.log"
  fi
done
stop_all
