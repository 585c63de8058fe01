#!/bin/sh
# stress-boot: boot the Linux test guest N times in a row and, for each boot
# that does not reach its shell, dump the serial tail and L1's KVM trace
# (the exit reasons and injected events before the failure). A tool for
# chasing nested-tier failures, not a test. Run it in L1:
#
#   L1_PASS_ENV="STRESS_N STRESS_CPUS STRESS_TUNE STRESS_RUNNER" \
#   STRESS_N=8 STRESS_CPUS=2 tests/linux/run-l1.sh tests/linux/stress-boot.sh
#
#   STRESS_N       boots (default 8)
#   STRESS_CPUS    L2 vCPUs (default 1)
#   STRESS_TUNE    thpon: THP back to "always" in L1 (the l1/init turns it
#                  off); npt0: reload kvm_amd with npt=0 (shadow paging)
#   STRESS_RUNNER  vmm (default) or qemu (QEMU with KVM in L1, as a control:
#                  needs L1_WITH_QEMU=1)
# VMSTAT lines show L1's page migration and THP counters around each boot.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${STRESS_N:-8}
CPUS=${STRESS_CPUS:-1}
T=/sys/kernel/tracing
[ -d $T/events ] || mount -t tracefs tracefs $T 2>/dev/null
echo "THP $(cat /sys/kernel/mm/transparent_hugepage/enabled) defrag $(cat /sys/kernel/mm/transparent_hugepage/defrag) khuge $(cat /sys/kernel/mm/transparent_hugepage/khugepaged/defrag)"
echo "KSM run $(cat /sys/kernel/mm/ksm/run) proactiveness $(cat /proc/sys/vm/compaction_proactiveness)"
echo "nx_huge_pages $(cat /sys/module/kvm/parameters/nx_huge_pages 2>&1) tdp_mmu $(cat /sys/module/kvm/parameters/tdp_mmu 2>&1)"
case "${STRESS_TUNE:-}" in
*thpon*) echo always > /sys/kernel/mm/transparent_hugepage/enabled; echo "TUNED: THP always";;
*thp*) echo never > /sys/kernel/mm/transparent_hugepage/enabled; echo "TUNED: THP never";;
esac
case "${STRESS_TUNE:-}" in
*npt0*) rmmod kvm_amd && modprobe kvm_amd npt=0 && echo "TUNED: npt=0 $(cat /sys/module/kvm_amd/parameters/npt)";;
esac
echo 8192 > $T/buffer_size_kb
for e in kvm_exit kvm_entry kvm_inj_exception kvm_pio kvm_msr kvm_page_fault kvm_unmap_hva_range kvm_set_spte_hva kvm_write_tsc_offset; do echo 1 > $T/events/kvm/$e/enable || echo "no event $e"; done
vmst() { grep -E '^(pgmigrate_success|compact_migrate_scanned|compact_success|thp_collapse_alloc|thp_fault_alloc|numa_pte_updates|pgsteal_kswapd|ksm)' /proc/vmstat | tr '\n' ' '; echo; }
i=0; bad=0
while [ $i -lt $N ]; do
	i=$((i+1))
	echo > $T/trace
	echo "VMSTAT before $(vmst)"
	if [ "${STRESS_RUNNER:-vmm}" = qemu ]; then
	vm_start s$i $QEMU -enable-kvm -cpu host -m 192 -smp $CPUS -nodefaults -display none -serial stdio -monitor none -no-reboot -kernel $GUEST_KERNEL -initrd $GUEST_INITRD -append console=ttyS0
	else
	vm_start s$i $VMM --kernel $GUEST_KERNEL --initrd $GUEST_INITRD --append "console=ttyS0" --memory 192M --cpus $CPUS --serial stdio --vnc none
	fi
	if vm_wait_for '^GUEST-INIT-READY' 120; then
		vm_send poweroff
		vm_wait_exit 30
		echo "STRESS boot $i ok status=$VM_STATUS t=$(elapsed $VM_T0)"
		echo "VMSTAT after $(vmst)"
	else
		bad=$((bad+1))
		echo 0 > $T/tracing_on
		echo "STRESS boot $i FAILED t=$(elapsed $VM_T0)"
		echo "VMSTAT after $(vmst)"
		vm_dump
		echo "--- trace (non-io) ---"
		grep -v -E 'kvm_pio|reason io |kvm_entry|kvm_fpu|kvm_userspace_exit' $T/trace | tail -n 150
		echo "--- trace tail ---"
		tail -n 12 $T/trace
		echo "--- end trace ---"
		vm_stop
		echo 1 > $T/tracing_on
	fi
done
echo "STRESS $bad of $N failed"
[ $bad = 0 ]
