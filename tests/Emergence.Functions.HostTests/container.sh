#!/bin/sh
# One container of the deploy rehearsal: the machine's own root seen through a throw-away writable
# layer, with the image's paths put in place, then COMMAND run in it as the image's CMD would be.
# Runs as PID 1 of fresh mount, PID and UTS namespaces (the caller starts it under
# `unshare --mount --pid --uts --fork`), so nothing it mounts or writes outside the volume is seen by
# the machine, and when it exits every process in it is gone.
#
# container.sh STATE_DIR HOSTNAME [--volume DEVICE PATH] [--dir PATH] [--bind-ro SOURCE PATH]
#              [--read-only-dir PATH] [--copy SOURCE PATH] -- COMMAND [ARG...]
set -eu
state=$1 name=$2
shift 2
root=$state/root
mkdir -p "$state/layer" "$root"
mount --make-rprivate /
mount -t tmpfs container-layer "$state/layer"
mkdir "$state/layer/upper" "$state/layer/work"
mount -t overlay container-root -o "lowerdir=/,upperdir=$state/layer/upper,workdir=$state/layer/work" "$root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs container-tmp "$root/tmp"
hostname "$name"
while [ $# -gt 0 ]; do
  case $1 in
    --volume) mkdir -p "$root$3"; mount "$2" "$root$3"; shift 3 ;;
    --dir) mkdir -p "$root$2"; shift 2 ;;
    --read-only-dir) mkdir -p "$root$2"; mount -t tmpfs -o ro read-only "$root$2"; shift 2 ;;
    --bind-ro) mkdir -p "$root$3"; mount --bind "$2" "$root$3"; mount -o remount,bind,ro "$root$3"; shift 3 ;;
    --copy) mkdir -p "$(dirname "$root$3")"; cp "$2" "$root$3"; chmod 755 "$root$3"; shift 3 ;;
    --) shift; break ;;
    *) echo "container.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
exec chroot "$root" "$@"
