#!/bin/sh
# Runs inside the fleet's Kubernetes node (test/k8s/node.k8s.ts copies /opt/k8s-node in first): imports the images,
# writes the CNI config and starts a kubelet v1.34.4 that registers NODE with the loopback apiserver. Usage:
#   sh /opt/k8s-node/start-kubelet.sh NODE APISERVER_URL
# The node is a systemd container on the host's network, so two STAND-INS keep the kubelet off the shared machine's
# kernel and network: its view of six kernel sysctls (the kubelet would set kernel.panic and the like, which are not
# namespaced), and a CNI `tap` interface in each pod's own network namespace instead of a bridge on the host's (this
# kernel has no dummy links). /dev/kmsg (the kubelet's OOM watcher) is /dev/null here: a container has none.
# containerd's state is on a tmpfs: overlayfs snapshots cannot sit on the node's own overlay root.
set -eu
node=$1; server=$2
kit=/opt/k8s-node
install -m 0755 "$kit/bin/kubelet" /usr/local/bin/kubelet
mkdir -p /opt/cni/bin /etc/cni/net.d /etc/kubernetes/pki /var/lib/kubelet /run/k8s-node-stand-ins
for p in loopback host-local tap; do install -m 0755 "$kit/bin/$p" "/opt/cni/bin/$p"; done
if [ "$(stat -fc %T /var/lib/containerd)" != tmpfs ]; then
    systemctl stop containerd
    mount -t tmpfs -o size=2g k8s-node-containerd /var/lib/containerd
    systemctl start containerd
fi
for i in "$kit"/images/*.tar; do ctr -n k8s.io images import "$i" >/dev/null; done

cat >/etc/cni/net.d/10-k8s-node.conflist <<'JSON'
{"cniVersion": "1.0.0", "name": "k8s-node", "plugins": [
  {"type": "tap", "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.25.0.0/24"}]], "dataDir": "/var/lib/cni/networks"}}
]}
JSON

[ -e /dev/kmsg ] || ln -s /dev/null /dev/kmsg
# The values the kubelet wants (pkg/kubelet/cm setupKernelTunables), bound over /proc/sys in this node's mounts only.
for kv in vm/overcommit_memory=1 vm/panic_on_oom=0 kernel/panic=10 kernel/panic_on_oops=1 kernel/keys/root_maxkeys=1000000 kernel/keys/root_maxbytes=25000000; do
    f=/proc/sys/${kv%=*}; v=${kv#*=}
    [ "$(cat "$f")" = "$v" ] && continue
    s=/run/k8s-node-stand-ins/$(echo "${kv%=*}" | tr / .)
    echo "$v" >"$s"
    mount --bind "$s" "$f"
done

cp "$kit/pki/ca.crt" "$kit/pki/admin.crt" "$kit/pki/admin.key" /etc/kubernetes/pki/
cat >/etc/kubernetes/kubelet.kubeconfig <<YAML
apiVersion: v1
kind: Config
clusters: [{name: test, cluster: {server: "$server", certificate-authority: /etc/kubernetes/pki/ca.crt}}]
users: [{name: kubelet, user: {client-certificate: /etc/kubernetes/pki/admin.crt, client-key: /etc/kubernetes/pki/admin.key}}]
contexts: [{name: test, context: {cluster: test, user: kubelet}}]
current-context: test
YAML
# Ports from the k8s suite's own range (25xx). cgroupfs, no QoS cgroups: runc then nests each container under the
# shim's own cgroup, inside the node's (systemd in the node cannot host kubepods.slice on this cgroup v1 machine).
cat >/etc/kubernetes/kubelet.yaml <<'YAML'
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
address: 127.0.0.1
port: 2550
healthzBindAddress: 127.0.0.1
healthzPort: 2548
readOnlyPort: 0
authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: /etc/kubernetes/pki/ca.crt } }
authorization: { mode: AlwaysAllow }
evictionHard: { memory.available: "1%", nodefs.available: "1%", imagefs.available: "1%" }
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
localStorageCapacityIsolation: false
resolvConf: ""
YAML
setsid /usr/local/bin/kubelet --config=/etc/kubernetes/kubelet.yaml --kubeconfig=/etc/kubernetes/kubelet.kubeconfig \
    --hostname-override="$node" --v=2 >/var/log/kubelet.log 2>&1 </dev/null &
n=0
until curl -fsS http://127.0.0.1:2548/healthz >/dev/null 2>&1; do
    n=$((n + 1))
    [ $n -lt 60 ] || { tail -n 20 /var/log/kubelet.log >&2; exit 1; }
    sleep 1
done
echo "kubelet $(/usr/local/bin/kubelet --version) healthy on $node"
