/* Intrusive doubly linked lists: a head pointer and prev/next members named
 * as given. The daemon keeps its clients, jobs, models and pools this way. */
#ifndef HWOPTD_DLIST_H
#define HWOPTD_DLIST_H

#define DLIST_PUSH(head, node, prev, next)        \
	do {                                      \
		(node)->prev = NULL;              \
		(node)->next = (head);            \
		if (head)                         \
			(head)->prev = (node);    \
		(head) = (node);                  \
	} while (0)

#define DLIST_REMOVE(head, node, prev, next)          \
	do {                                          \
		if ((node)->prev)                     \
			(node)->prev->next = (node)->next; \
		else if ((head) == (node))            \
			(head) = (node)->next;        \
		if ((node)->next)                     \
			(node)->next->prev = (node)->prev; \
	} while (0)

#endif
