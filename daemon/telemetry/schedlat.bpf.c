// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Run-queue latency: the time from a task becoming runnable (woken, new, or
 * preempted while still runnable) to it running. Histograms in log2
 * microsecond slots, one system-wide and one per daemon worker, kept per CPU
 * so the hot path needs no atomics. The same handlers are built as tp_btf
 * programs and as raw_tp programs; user space loads one set (tp_btf first)
 * and the other stays unloaded. Everything is read with CO-RE, which works
 * for both kinds of program. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Keep in step with daemon/telemetry/schedlat.c (it checks the size). */
#define SL_NSLOT 26 /* slot i: latency <= 2^i us; slot SL_NSLOT: above all */
#define SL_TASK_RUNNING 0
#define SL_TASK_DEAD 0x80

struct sl_stat {
	__u64 slots[SL_NSLOT + 1];
	__u64 count;
	__u64 sum_ns;
	__u64 involuntary;
	__u64 migrations;
};

/* pid (a thread id) -> when it became runnable. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, __u64);
} start SEC(".maps");

/* Worker thread id -> worker index; filled by user space before attach. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} workers SEC(".maps");

/* [0]: system-wide; [1 + i]: worker i. User space sizes it. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 257);
	__type(key, __u32);
	__type(value, struct sl_stat);
} stats SEC(".maps");

/* Worker i -> 1 + the CPU it last ran on (0: not seen yet). Not per CPU:
 * a worker runs on one CPU at a time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} lastcpu SEC(".maps");

/* Kernels before 5.14 call it state. */
struct task_struct___o {
	volatile long state;
} __attribute__((preserve_access_index));

static __always_inline long task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return BPF_CORE_READ(t, __state);
	return BPF_CORE_READ((struct task_struct___o *)t, state);
}

/* The first slot whose bound 2^i us holds ns. */
static __always_inline __u32 slot_of(__u64 ns)
{
	__u64 us = (ns + 999) / 1000;
	__u64 v;
	__u32 r = 0, s;

	if (us <= 1)
		return 0;
	v = us - 1; /* ceil(log2(us)) = floor(log2(us - 1)) + 1 */
	s = (v > 0xFFFFFFFF) << 5; v >>= s; r |= s;
	s = (v > 0xFFFF) << 4; v >>= s; r |= s;
	s = (v > 0xFF) << 3; v >>= s; r |= s;
	s = (v > 0xF) << 2; v >>= s; r |= s;
	s = (v > 0x3) << 1; v >>= s; r |= s;
	r |= (v >> 1);
	r += 1;
	return r > SL_NSLOT ? SL_NSLOT : r;
}

static __always_inline void add(struct sl_stat *st, __u64 ns)
{
	__u32 slot = slot_of(ns);

	if (slot > SL_NSLOT)
		return;
	st->slots[slot]++;
	st->count++;
	st->sum_ns += ns;
}

static __always_inline int on_wakeup(struct task_struct *p)
{
	__u32 pid = BPF_CORE_READ(p, pid);
	__u64 ts;

	if (!pid)
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &pid, &ts, BPF_ANY);
	return 0;
}

static __always_inline struct sl_stat *worker_stat(__u32 pid, __u32 *idx)
{
	__u32 *w = bpf_map_lookup_elem(&workers, &pid);
	__u32 key;

	if (!w)
		return NULL;
	*idx = *w;
	key = *w + 1;
	return bpf_map_lookup_elem(&stats, &key);
}

/* prev leaves the CPU: still runnable (preempted) means it waits in the
 * run queue from now on; a dying task drops its entry. */
static __always_inline void on_prev(bool preempt, struct task_struct *prev, __u64 now)
{
	__u32 pid = BPF_CORE_READ(prev, pid);
	long state = task_state(prev);
	struct sl_stat *ws;
	__u32 idx;

	if (!pid)
		return;
	if (preempt || state == SL_TASK_RUNNING) {
		bpf_map_update_elem(&start, &pid, &now, BPF_ANY);
		ws = worker_stat(pid, &idx);
		if (ws)
			ws->involuntary++;
	} else if (state & SL_TASK_DEAD) {
		bpf_map_delete_elem(&start, &pid);
	}
}

static __always_inline void on_next(struct task_struct *next, __u64 now)
{
	__u32 pid = BPF_CORE_READ(next, pid);
	__u32 key = 0, idx, cpu, *last;
	struct sl_stat *st, *ws;
	__u64 *tsp, delta;

	if (!pid)
		return;
	tsp = bpf_map_lookup_elem(&start, &pid);
	if (!tsp)
		return;
	delta = now - *tsp;
	bpf_map_delete_elem(&start, &pid);
	if ((__s64)delta < 0)
		return;
	st = bpf_map_lookup_elem(&stats, &key);
	if (st)
		add(st, delta);
	ws = worker_stat(pid, &idx);
	if (!ws)
		return;
	add(ws, delta);
	cpu = bpf_get_smp_processor_id() + 1;
	last = bpf_map_lookup_elem(&lastcpu, &idx);
	if (!last)
		return;
	if (*last && *last != cpu)
		ws->migrations++;
	*last = cpu;
}

static __always_inline int on_switch(bool preempt, struct task_struct *prev,
				     struct task_struct *next)
{
	__u64 now = bpf_ktime_get_ns();

	on_prev(preempt, prev, now);
	on_next(next, now);
	return 0;
}

SEC("tp_btf/sched_wakeup")
int BPF_PROG(tp_wakeup, struct task_struct *p)
{
	return on_wakeup(p);
}

SEC("tp_btf/sched_wakeup_new")
int BPF_PROG(tp_wakeup_new, struct task_struct *p)
{
	return on_wakeup(p);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(tp_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(preempt, prev, next);
}

SEC("raw_tp/sched_wakeup")
int BPF_PROG(raw_wakeup, struct task_struct *p)
{
	return on_wakeup(p);
}

SEC("raw_tp/sched_wakeup_new")
int BPF_PROG(raw_wakeup_new, struct task_struct *p)
{
	return on_wakeup(p);
}

SEC("raw_tp/sched_switch")
int BPF_PROG(raw_switch, bool preempt, struct task_struct *prev, struct task_struct *next)
{
	return on_switch(preempt, prev, next);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
