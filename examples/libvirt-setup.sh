#!/bin/sh
# libvirt-setup.sh [GUESTDIR]
#
# Prepares this machine for examples/libvirt.yaml (run as root; safe to run again):
#   1. installs libvirt (libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients) and QEMU if missing, without
#      letting the packages start anything;
#   2. writes /etc/libvirt/qemu.conf if missing (QEMU as root), makes /var/log/libvirt and starts
#      virtlogd and libvirtd as plain daemons when they are not running (no systemd or D-Bus needed);
#   3. builds the tiny guest with guest/build-guest.sh into GUESTDIR (default /var/tmp/vmpooler-guest) if missing;
#   4. makes the storage pool "vmpooler" (a directory, /var/lib/libvirt/images/vmpooler) holding the guest's disk as
#      the template volume tiny-base.qcow2, and defines the template domain "vmpooler-tiny" (160 MiB, TCG, no NIC:
#      the provider adds a user-mode NIC with SSH forwarded to 127.0.0.1).
# Stop the daemons later with: kill "$(cat /run/libvirtd.pid)" "$(cat /run/virtlogd.pid)"
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
GUEST=${1:-/var/tmp/vmpooler-guest}
POOL=vmpooler
POOLDIR=/var/lib/libvirt/images/vmpooler
TEMPLATE=vmpooler-tiny
URI=qemu:///system

# 1. packages
missing=""
for p in libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; policy=1; fi
  apt-get update -qq
  # shellcheck disable=SC2086  # word list
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  if [ -n "$policy" ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# 2. the daemons
# Without libvirt-daemon-system there is no qemu.conf, and libvirt's default (QEMU as user libvirt-qemu) needs that user
# and a /dev/kvm it may open, else libvirt re-probes QEMU on every define and start: run QEMU as root instead.
if [ ! -f /etc/libvirt/qemu.conf ]; then
  printf '# Written by vmpooler examples/libvirt-setup.sh: QEMU runs as root.\nuser = "root"\ngroup = "root"\n' > /etc/libvirt/qemu.conf
fi
# The QEMU driver resolves its built-in default user and group (both libvirt-qemu) before it reads qemu.conf and does
# not start without them ("Failed to parse user 'libvirt-qemu'"): create them as libvirt-daemon-system would.
getent group libvirt-qemu >/dev/null || groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null || useradd --system --gid libvirt-qemu --no-create-home --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu
mkdir -p /var/log/libvirt
if ! virsh -c "$URI" version >/dev/null 2>&1; then
  [ -S /run/libvirt/virtlogd-sock ] && virt-admin -c virtlogd:///system version >/dev/null 2>&1 || virtlogd -d
  libvirtd -d
  i=0; until virsh -c "$URI" version >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 300 ] || { echo "libvirtd does not answer" >&2; exit 1; }; sleep 0.2; done
fi
echo "libvirtd answers on $URI"

# 3. the guest
if [ ! -f "$GUEST/base.qcow2" ] || [ ! -f "$GUEST/vmlinuz" ]; then
  sh "$HERE/../guest/build-guest.sh" "$GUEST"
fi
GUEST=$(cd "$GUEST" && pwd)

# 4. storage pool, template volume, template domain
if ! virsh -c "$URI" pool-info "$POOL" >/dev/null 2>&1; then
  virsh -c "$URI" pool-define-as "$POOL" dir --target "$POOLDIR" >/dev/null
  virsh -c "$URI" pool-build "$POOL" >/dev/null
  virsh -c "$URI" pool-autostart "$POOL" >/dev/null
fi
virsh -c "$URI" pool-info "$POOL" | grep -q running || virsh -c "$URI" pool-start "$POOL" >/dev/null
[ -f "$POOLDIR/tiny-base.qcow2" ] || cp "$GUEST/base.qcow2" "$POOLDIR/tiny-base.qcow2"
virsh -c "$URI" pool-refresh "$POOL" >/dev/null
xml=$(mktemp)
cat > "$xml" <<XML
<domain type='qemu'>
  <name>$TEMPLATE</name>
  <memory unit='MiB'>160</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$GUEST/vmlinuz</kernel>
    <initrd>$GUEST/initrd.img</initrd>
    <cmdline>console=ttyS0 panic=-1 quiet root=/dev/vda vm.hostkey=generate</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <cpu mode='maximum'/>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$POOLDIR/tiny-base.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
  </devices>
</domain>
XML
virsh -c "$URI" define "$xml" >/dev/null
rm -f "$xml"
echo "template domain $TEMPLATE on volume $POOL/tiny-base.qcow2; SSH key: $GUEST/id_ed25519"
