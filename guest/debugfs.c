// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs: /sys/kernel/debug/virtio_iommu_pgt/<virtio device>/stats, and the
 * test knobs of test builds (testing.c).
 */
#include <linux/seq_file.h>

#include "viommu.h"

static void viommu_stat_line(struct seq_file *s, const char *name,
			     atomic64_t *val)
{
	seq_printf(s, "%s: %lld\n", name, atomic64_read(val));
}

static int viommu_stats_show(struct seq_file *s, void *unused)
{
	struct viommu_dev *viommu = s->private;
	struct viommu_stats *st = &viommu->stats;

	seq_printf(s, "mode: %s\n", viommu->table_mode ? "table" : "classic");
	seq_printf(s, "broken: %d\n", viommu_is_broken(viommu));
	viommu_stat_line(s, "requests", &st->requests);
	viommu_stat_line(s, "syncs", &st->syncs);
	viommu_stat_line(s, "maps", &st->maps);
	viommu_stat_line(s, "unmaps", &st->unmaps);
	viommu_stat_line(s, "invalidations", &st->invalidations);
	viommu_stat_line(s, "inval_escalations", &st->inval_escalations);
	viommu_stat_line(s, "faults", &st->faults);
	viommu_stat_line(s, "faults_handled", &st->faults_handled);
	viommu_stat_line(s, "table_domains", &st->table_domains);
	viommu_stat_line(s, "classic_domains", &st->classic_domains);
	viommu_stat_line(s, "bad_responses", &st->bad_responses);
	viommu_stat_line(s, "attach_rollbacks", &st->attach_rollbacks);
	viommu_stat_line(s, "leaked_tables", &st->leaked_tables);
	seq_printf(s, "granules_offered: %#x\n",
		   atomic_read(&st->granules_offered));
	seq_printf(s, "granules_used: %#x\n", atomic_read(&st->granules_used));
	seq_printf(s, "last_fault: endpoint %u reason %u address %#llx\n",
		   READ_ONCE(viommu->last_fault_endpoint),
		   READ_ONCE(viommu->last_fault_reason),
		   READ_ONCE(viommu->last_fault_addr));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(viommu_stats);

void viommu_debugfs_init(struct viommu_dev *viommu, struct dentry *root)
{
	viommu->debugfs = debugfs_create_dir(dev_name(viommu->dev), root);
	debugfs_create_file("stats", 0444, viommu->debugfs, viommu,
			    &viommu_stats_fops);
	viommu_testing_debugfs(viommu);
}
