# Points podman and buildah at a storage and a configuration of their own, for machines like CI's where the
# defaults do not work (no overlay mounts, crun cannot set rlimits, no systemd): vfs storage, runc, cgroupfs,
# chroot isolation for builds, host networking and no default ulimits. Source it with the directory to use:
#   . deploy/lib/podman-env.sh /var/tmp/vmpooler-podman
# Images built and containers run with these settings live only in that directory.
podman_env_dir=${1:?podman-env.sh needs a directory}
mkdir -p "$podman_env_dir/storage" "$podman_env_dir/run"
cat > "$podman_env_dir/storage.conf" <<CONF
[storage]
driver = "vfs"
graphroot = "$podman_env_dir/storage"
runroot = "$podman_env_dir/run"
CONF
cat > "$podman_env_dir/containers.conf" <<CONF
[containers]
default_ulimits = []
netns = "host"
log_driver = "k8s-file"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$podman_env_dir/events.log"
CONF
export CONTAINERS_STORAGE_CONF="$podman_env_dir/storage.conf"
export CONTAINERS_CONF="$podman_env_dir/containers.conf"
export BUILDAH_ISOLATION=chroot
