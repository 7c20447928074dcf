#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, for the sweep's cluster test (issue 19,
# docs/scale-out.md): `slurm-cluster.sh start DIR` writes a munge key and a minimal
# slurm.conf (this host, its CPUs) under DIR, starts munged, slurmctld and slurmd with
# everything (sockets, state, spool, logs, pids) in DIR, waits until the node is idle,
# and prints `export SLURM_CONF=DIR/slurm.conf` for the clients (sbatch, squeue).
# `slurm-cluster.sh stop DIR` stops exactly the daemons it started (their pid files
# in DIR). Needs Debian's slurmctld, slurmd, slurm-client and munge (.ci/run installs
# them) and root (the daemons run as root: SlurmUser=root). Exit 3: Slurm is not
# installed or cannot start here (the caller skips, saying so).
set -euo pipefail

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

stop() {
  for p in slurmd slurmctld munged; do
    if [[ -f $dir/$p.pid ]]; then
      pid=$(cat "$dir/$p.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$p.pid"
    fi
  done
}

if [[ $cmd == stop ]]; then stop; exit 0; fi
[[ $cmd == start ]] || { echo "usage: $0 start|stop DIR" >&2; exit 2; }

for b in munged slurmctld slurmd sbatch squeue sinfo; do
  command -v "$b" >/dev/null || { echo "slurm-cluster: $b is not installed (apt-get install slurmctld slurmd slurm-client munge)" >&2; exit 3; }
done
[[ $(id -u) -eq 0 ]] || { echo "slurm-cluster: the daemons need root here" >&2; exit 3; }

dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
chmod 0700 "$dir"
mkdir -p "$dir/state" "$dir/spool" "$dir/munge"
chmod 0700 "$dir/munge"
host=$(hostname -s)
cpus=$(nproc)
# A fresh key for this cluster only.
head -c 1024 /dev/urandom > "$dir/munge/munge.key"
chmod 0400 "$dir/munge/munge.key"
munged --force --socket="$dir/munge/munge.sock" --key-file="$dir/munge/munge.key" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/seed" \
  || { echo "slurm-cluster: munged did not start (see $dir/munged.log)" >&2; exit 3; }

# Ports away from the defaults (6817/6818), so as not to meet another cluster.
cat > "$dir/slurm.conf" <<CONF
ClusterName=isosim
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=isosim Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$dir/slurm.conf
slurmctld -f "$dir/slurm.conf" || { stop; echo "slurm-cluster: slurmctld did not start (see $dir/slurmctld.log)" >&2; exit 3; }
slurmd -f "$dir/slurm.conf" || { stop; echo "slurm-cluster: slurmd did not start (see $dir/slurmd.log)" >&2; exit 3; }
for _ in $(seq 100); do
  state=$(sinfo -h -o '%t' 2>/dev/null | head -1 || true)
  if [[ $state == idle ]]; then echo "export SLURM_CONF=$dir/slurm.conf"; exit 0; fi
  sleep 0.2
done
stop
echo "slurm-cluster: the node did not become idle in 20 s (see $dir/slurmctld.log, $dir/slurmd.log)" >&2
exit 3
