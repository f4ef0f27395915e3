/* The job queue's ordering rules (see sched_queue.h).
 *
 * Layout: each (client, class) pair with queued items has a record holding
 * those items in a doubly linked list already in service order: items with a
 * deadline by (deadline, seq), then the others by seq. The records of a class
 * form a ring with a cursor, which is the round-robin. A record whose head
 * has a deadline sits in a min-heap keyed by that deadline, so expiry checks
 * are O(1) and updates O(log clients). Batch items not aged yet are also on
 * a list by arrival; a pick first moves the aged ones into their client's
 * normal record, once per item. Records are found by a hash on
 * (client, class) and recycled through a small free list, since a client
 * with one job at a time would otherwise allocate a record per job. */
#include "sched_queue.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NOT_IN_HEAP SIZE_MAX
#define SPARE_MAX 64
#define BUCKETS_MIN 64

struct sq_client {
	uint64_t id;
	enum sched_class cls;            /* its ring; aged batch items live in normal */
	struct sq_item *head, *tail;
	struct sq_item *last_dl;         /* last item with a deadline, NULL: none */
	struct sq_client *rprev, *rnext; /* class ring */
	struct sq_client *hnext;         /* hash chain, or free list */
	size_t heap_idx;
};

struct sq {
	uint64_t batch_age_ns;
	uint64_t next_seq;
	size_t len, len_cls[SQ_N_CLASSES];
	struct sq_client *cursor[SQ_N_CLASSES]; /* next client to serve */
	struct sq_client **buckets;
	size_t nbuckets, nclients;
	struct sq_client **heap;                  /* by head deadline */
	size_t heap_len, heap_cap;                /* heap_cap >= nclients */
	struct sq_client *spare;
	size_t nspare;
	struct sq_item *young_head, *young_tail;  /* batch, not aged, by arrival */
};

/* --- class names ----------------------------------------------------------- */

static const char *const class_names[SQ_N_CLASSES] = { "interactive", "normal", "batch" };

const char *sched_class_name(enum sched_class c)
{
	return (unsigned)c < SQ_N_CLASSES ? class_names[c] : "unknown";
}

int sched_class_parse(const char *s, enum sched_class *out)
{
	for (int c = 0; s && c < SQ_N_CLASSES; c++) {
		if (strcmp(s, class_names[c]) == 0) {
			*out = (enum sched_class)c;
			return 0;
		}
	}
	return -EINVAL;
}

/* --- deadline heap of client records ---------------------------------------- */

static uint64_t head_deadline(const struct sq_client *c)
{
	return c->head->deadline_ns;
}

static void heap_set(struct sq *q, size_t i, struct sq_client *c)
{
	q->heap[i] = c;
	c->heap_idx = i;
}

/* Returns where the element at i ended up. */
static size_t heap_up(struct sq *q, size_t i)
{
	struct sq_client *c = q->heap[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (head_deadline(q->heap[p]) <= head_deadline(c))
			break;
		heap_set(q, i, q->heap[p]);
		i = p;
	}
	heap_set(q, i, c);
	return i;
}

static void heap_down(struct sq *q, size_t i)
{
	struct sq_client *c = q->heap[i];
	for (;;) {
		size_t m = 2 * i + 1;
		if (m >= q->heap_len)
			break;
		if (m + 1 < q->heap_len && head_deadline(q->heap[m + 1]) < head_deadline(q->heap[m]))
			m++;
		if (head_deadline(c) <= head_deadline(q->heap[m]))
			break;
		heap_set(q, i, q->heap[m]);
		i = m;
	}
	heap_set(q, i, c);
}

static void heap_fix(struct sq *q, size_t i)
{
	if (heap_up(q, i) == i)
		heap_down(q, i);
}

static void heap_del(struct sq *q, struct sq_client *c)
{
	size_t i = c->heap_idx;
	struct sq_client *last = q->heap[--q->heap_len];
	c->heap_idx = NOT_IN_HEAP;
	if (i < q->heap_len) {
		heap_set(q, i, last);
		heap_fix(q, i);
	}
}

/* Called whenever c's head may have changed. */
static void deadline_update(struct sq *q, struct sq_client *c)
{
	bool want = c->head && c->head->deadline_ns;
	if (c->heap_idx == NOT_IN_HEAP) {
		if (want) {
			heap_set(q, q->heap_len++, c); /* room: heap_cap >= nclients */
			heap_up(q, c->heap_idx);
		}
	} else if (!want) {
		heap_del(q, c);
	} else {
		heap_fix(q, c->heap_idx);
	}
}

/* --- class rings ----------------------------------------------------------- */

/* A new client joins just before the cursor: at the end of the current round. */
static void ring_add(struct sq *q, struct sq_client *c)
{
	struct sq_client *cur = q->cursor[c->cls];
	if (!cur) {
		c->rprev = c->rnext = c;
		q->cursor[c->cls] = c;
		return;
	}
	c->rnext = cur;
	c->rprev = cur->rprev;
	cur->rprev->rnext = c;
	cur->rprev = c;
}

static void ring_del(struct sq *q, struct sq_client *c)
{
	if (c->rnext == c) {
		q->cursor[c->cls] = NULL;
	} else {
		c->rprev->rnext = c->rnext;
		c->rnext->rprev = c->rprev;
		if (q->cursor[c->cls] == c)
			q->cursor[c->cls] = c->rnext;
	}
	c->rprev = c->rnext = NULL;
}

/* --- client records ---------------------------------------------------------- */

static size_t hash_slot(size_t nbuckets, uint64_t id, enum sched_class cls)
{
	uint64_t x = id * SQ_N_CLASSES + (uint64_t)cls; /* splitmix64 finalizer */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return (size_t)x & (nbuckets - 1);
}

static struct sq_client *client_find(const struct sq *q, uint64_t id, enum sched_class cls)
{
	struct sq_client *c = q->buckets[hash_slot(q->nbuckets, id, cls)];
	while (c && (c->id != id || c->cls != cls))
		c = c->hnext;
	return c;
}

/* Doubles the table; on failure the chains just grow longer. */
static void hash_grow(struct sq *q)
{
	size_t n = q->nbuckets * 2;
	struct sq_client **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < q->nbuckets; i++) {
		struct sq_client *c = q->buckets[i];
		while (c) {
			struct sq_client *next = c->hnext;
			size_t s = hash_slot(n, c->id, c->cls);
			c->hnext = b[s];
			b[s] = c;
			c = next;
		}
	}
	free(q->buckets);
	q->buckets = b;
	q->nbuckets = n;
}

/* The record of (id, cls), created empty (in no ring) when missing. The heap
 * grows here so that nothing later can fail. */
static struct sq_client *client_get(struct sq *q, uint64_t id, enum sched_class cls)
{
	struct sq_client *c = client_find(q, id, cls);
	if (c)
		return c;
	if (q->heap_cap <= q->nclients) {
		size_t cap = q->heap_cap ? q->heap_cap * 2 : 16;
		struct sq_client **h = realloc(q->heap, cap * sizeof(*h));
		if (!h)
			return NULL;
		q->heap = h;
		q->heap_cap = cap;
	}
	if (q->spare) {
		c = q->spare;
		q->spare = c->hnext;
		q->nspare--;
	} else if (!(c = malloc(sizeof(*c)))) {
		return NULL;
	}
	*c = (struct sq_client){ .id = id, .cls = cls, .heap_idx = NOT_IN_HEAP };
	size_t s = hash_slot(q->nbuckets, id, cls);
	c->hnext = q->buckets[s];
	q->buckets[s] = c;
	if (++q->nclients > q->nbuckets)
		hash_grow(q);
	return c;
}

/* Frees an emptied record (out of the heap already). */
static void client_put(struct sq *q, struct sq_client *c)
{
	ring_del(q, c);
	struct sq_client **pp = &q->buckets[hash_slot(q->nbuckets, c->id, c->cls)];
	while (*pp != c)
		pp = &(*pp)->hnext;
	*pp = c->hnext;
	q->nclients--;
	if (q->nspare < SPARE_MAX) {
		c->hnext = q->spare;
		q->spare = c;
		q->nspare++;
	} else {
		free(c);
	}
}

/* --- a client's list ----------------------------------------------------------- */

/* a is served before b within one client's list of a class. */
static bool goes_before(const struct sq_item *a, const struct sq_item *b)
{
	if (a->deadline_ns != b->deadline_ns) {
		if (!a->deadline_ns || !b->deadline_ns)
			return a->deadline_ns != 0;
		return a->deadline_ns < b->deadline_ns;
	}
	return a->seq < b->seq;
}

/* The item it goes after (NULL: the head). Deadline items are searched from
 * the last one backwards, as new deadlines tend to be the latest. Others go
 * at the tail when newest (every push); only aged batch items are older,
 * and older than most, so those search forwards. */
static struct sq_item *insert_pos(const struct sq_client *c, const struct sq_item *it)
{
	struct sq_item *pos = c->last_dl;
	if (it->deadline_ns) {
		while (pos && goes_before(it, pos))
			pos = pos->prev;
		return pos;
	}
	if (!c->tail || c->tail->deadline_ns || c->tail->seq < it->seq)
		return c->tail;
	struct sq_item *next = pos ? pos->next : c->head;
	while (next && next->seq < it->seq) {
		pos = next;
		next = next->next;
	}
	return pos;
}

static void client_link(struct sq *q, struct sq_client *c, struct sq_item *it)
{
	bool was_empty = !c->head;
	struct sq_item *pos = insert_pos(c, it);
	it->prev = pos;
	it->next = pos ? pos->next : c->head;
	if (it->next)
		it->next->prev = it;
	else
		c->tail = it;
	if (pos)
		pos->next = it;
	else
		c->head = it;
	if (it->deadline_ns && pos == c->last_dl)
		c->last_dl = it;
	it->owner = c;
	if (was_empty)
		ring_add(q, c);
	if (!pos)
		deadline_update(q, c);
}

static void client_unlink(struct sq *q, struct sq_item *it)
{
	struct sq_client *c = it->owner;
	bool was_head = !it->prev;
	if (c->last_dl == it)
		c->last_dl = it->prev; /* deadline items come first */
	if (it->prev)
		it->prev->next = it->next;
	else
		c->head = it->next;
	if (it->next)
		it->next->prev = it->prev;
	else
		c->tail = it->prev;
	it->prev = it->next = NULL;
	it->owner = NULL;
	if (was_head)
		deadline_update(q, c);
	if (!c->head)
		client_put(q, c);
}

/* --- batch items waiting to age ------------------------------------------------ */

static bool is_young(const struct sq_item *it)
{
	return it->cls == SQ_BATCH && it->owner->cls == SQ_BATCH;
}

/* By arrival; from the tail, since arrivals are nearly always in order. */
static void young_link(struct sq *q, struct sq_item *it)
{
	struct sq_item *pos = q->young_tail;
	while (pos && pos->arrival_ns > it->arrival_ns)
		pos = pos->age_prev;
	it->age_prev = pos;
	it->age_next = pos ? pos->age_next : q->young_head;
	if (it->age_next)
		it->age_next->age_prev = it;
	else
		q->young_tail = it;
	if (pos)
		pos->age_next = it;
	else
		q->young_head = it;
}

static void young_unlink(struct sq *q, struct sq_item *it)
{
	if (it->age_prev)
		it->age_prev->age_next = it->age_next;
	else
		q->young_head = it->age_next;
	if (it->age_next)
		it->age_next->age_prev = it->age_prev;
	else
		q->young_tail = it->age_prev;
	it->age_prev = it->age_next = NULL;
}

static uint64_t waited(const struct sq_item *it, uint64_t now)
{
	return now > it->arrival_ns ? now - it->arrival_ns : 0;
}

/* Moves the batch items that have waited long enough to their client's
 * normal list. Without memory for a new record it stops, to retry at the
 * next pick. */
static void age_batch(struct sq *q, uint64_t now)
{
	struct sq_item *it;
	while ((it = q->young_head) && waited(it, now) >= q->batch_age_ns) {
		struct sq_client *dst = client_get(q, it->client, SQ_NORMAL);
		if (!dst)
			return;
		young_unlink(q, it);
		client_unlink(q, it);
		client_link(q, dst, it);
	}
}

/* --- queue ------------------------------------------------------------------- */

struct sq *sq_new(uint64_t batch_age_ns)
{
	struct sq *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->buckets = calloc(BUCKETS_MIN, sizeof(*q->buckets));
	if (!q->buckets) {
		free(q);
		return NULL;
	}
	q->nbuckets = BUCKETS_MIN;
	q->batch_age_ns = batch_age_ns;
	return q;
}

void sq_free(struct sq *q)
{
	if (!q)
		return;
	/* Records of a queue freed non-empty; the items stay the caller's. */
	for (size_t i = 0; i < q->nbuckets; i++) {
		struct sq_client *c = q->buckets[i];
		while (c) {
			struct sq_client *next = c->hnext;
			free(c);
			c = next;
		}
	}
	while (q->spare) {
		struct sq_client *next = q->spare->hnext;
		free(q->spare);
		q->spare = next;
	}
	free(q->buckets);
	free(q->heap);
	free(q);
}

void sq_set_batch_age(struct sq *q, uint64_t batch_age_ns)
{
	q->batch_age_ns = batch_age_ns;
}

int sq_push(struct sq *q, struct sq_item *it)
{
	if ((unsigned)it->cls >= SQ_N_CLASSES || it->queued)
		return -EINVAL;
	struct sq_client *c = client_get(q, it->client, it->cls);
	if (!c)
		return -ENOMEM;
	it->seq = q->next_seq++;
	client_link(q, c, it);
	if (it->cls == SQ_BATCH)
		young_link(q, it);
	it->queued = true;
	q->len++;
	q->len_cls[it->cls]++;
	return 0;
}

static void item_remove(struct sq *q, struct sq_item *it)
{
	if (is_young(it))
		young_unlink(q, it);
	client_unlink(q, it);
	it->queued = false;
	q->len--;
	q->len_cls[it->cls]--;
}

void sq_remove(struct sq *q, struct sq_item *it)
{
	if (it->queued)
		item_remove(q, it);
}

struct sq_item *sq_pop_expired(struct sq *q, uint64_t now)
{
	if (!q->heap_len || head_deadline(q->heap[0]) > now)
		return NULL;
	struct sq_item *it = q->heap[0]->head;
	item_remove(q, it);
	return it;
}

uint64_t sq_next_deadline(const struct sq *q)
{
	return q->heap_len ? head_deadline(q->heap[0]) : UINT64_MAX;
}

size_t sq_len(const struct sq *q)
{
	return q->len;
}

size_t sq_len_class(const struct sq *q, enum sched_class c)
{
	return (unsigned)c < SQ_N_CLASSES ? q->len_cls[c] : 0;
}

/* --- picking ------------------------------------------------------------------- */

static bool runnable(const struct sq_ops *ops, const struct sq_item *it)
{
	return !ops || !ops->runnable || ops->runnable(ops->ctx, it);
}

struct batch {
	const struct sq_item *first;
	const struct sq_ops *ops;
	struct sq_item **out;
	size_t n, max_out;
	uint64_t rows, max_rows;
};

static bool batch_full(const struct batch *b)
{
	return b->n >= b->max_out || b->rows >= b->max_rows;
}

static bool batch_fits(const struct batch *b, const struct sq_item *it)
{
	const struct sq_item *f = b->first;
	return it != f && it->batch_key == f->batch_key && it->shape_key == f->shape_key &&
	       it->cls == f->cls && b->rows + it->rows <= b->max_rows && runnable(b->ops, it);
}

/* Adds c's items that fit, in c's order; true once the batch is full. */
static bool batch_add_client(struct batch *b, const struct sq_client *c)
{
	for (struct sq_item *it = c->head; it && !batch_full(b); it = it->next) {
		if (batch_fits(b, it)) {
			b->out[b->n++] = it;
			b->rows += it->rows;
		}
	}
	return batch_full(b);
}

/* Once around a ring from start, leaving out skip. */
static bool batch_add_ring(struct batch *b, const struct sq_client *start,
			   const struct sq_client *skip)
{
	const struct sq_client *c = start;
	if (!c)
		return false;
	do {
		if (c != skip && batch_add_client(b, c))
			return true;
		c = c->rnext;
	} while (c != start);
	return false;
}

/* The class's service order from the first item's client on. */
static void batch_gather(const struct sq *q, struct batch *b)
{
	const struct sq_client *own = b->first->owner;
	if (batch_add_client(b, own) || batch_add_ring(b, own->rnext, own))
		return;
	/* An aged batch item also takes the batch items not aged yet. */
	if (b->first->cls != own->cls)
		batch_add_ring(b, q->cursor[b->first->cls], NULL);
}

static uint64_t add_sat(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Takes first, with its batch when it has one: 0 when the batch must wait
 * (then *wake may move earlier). */
static size_t take(struct sq *q, struct sq_item *first, uint64_t now, const struct sq_ops *ops,
		   struct sq_item **out, size_t max_out, uint64_t *wake)
{
	struct batch b = { .first = first, .ops = ops, .out = out, .n = 1, .max_out = max_out,
			   .rows = first->rows };
	uint32_t max_rows = 0;
	uint64_t delay = 0;
	out[0] = first;
	if (first->batch_key && ops && ops->batch_limits)
		ops->batch_limits(ops->ctx, first->batch_key, &max_rows, &delay);
	if (max_rows > 1 && first->rows < max_rows) {
		b.max_rows = max_rows;
		batch_gather(q, &b);
		uint64_t ready = add_sat(first->arrival_ns, delay);
		/* Waiting for companions must not cost a request its deadline:
		 * wait at most half the time its deadline leaves. */
		for (size_t i = 0; i < b.n; i++) {
			uint64_t dl = out[i]->deadline_ns;
			if (dl && dl > first->arrival_ns && first->arrival_ns + (dl - first->arrival_ns) / 2 < ready)
				ready = first->arrival_ns + (dl - first->arrival_ns) / 2;
		}
		if (!batch_full(&b) && now < ready) {
			if (ready < *wake)
				*wake = ready;
			return 0;
		}
	}
	/* Advance before removing: removal may free records, and ring_del
	 * keeps the cursor valid. */
	struct sq_client *own = first->owner;
	q->cursor[own->cls] = own->rnext;
	for (size_t i = 0; i < b.n; i++)
		item_remove(q, out[i]);
	return b.n;
}

/* Each client of the ring once from the cursor, its first runnable item
 * whose batch is ready. */
static size_t pick_class(struct sq *q, enum sched_class cls, uint64_t now,
			 const struct sq_ops *ops, struct sq_item **out, size_t max_out,
			 uint64_t *wake)
{
	struct sq_client *start = q->cursor[cls], *c = start;
	if (!c)
		return 0;
	do {
		for (struct sq_item *it = c->head; it; it = it->next) {
			if (!runnable(ops, it))
				continue;
			size_t n = take(q, it, now, ops, out, max_out, wake);
			if (n)
				return n;
		}
		c = c->rnext;
	} while (c != start);
	return 0;
}

size_t sq_pick(struct sq *q, uint64_t now, const struct sq_ops *ops, struct sq_item **out,
	       size_t max_out, uint64_t *wake_at)
{
	uint64_t wake = UINT64_MAX;
	size_t n = 0;
	if (max_out) {
		age_batch(q, now);
		for (int c = 0; c < SQ_N_CLASSES && !n; c++)
			n = pick_class(q, (enum sched_class)c, now, ops, out, max_out, &wake);
	}
	if (wake_at)
		*wake_at = wake;
	return n;
}
