<?php
/* Page: one page of a paged list (ListItems, ListMemberItems,
 * ListAlbumPhotos): the entries and total, the count of every match. */

declare(strict_types=1);

namespace Kisekae;

/** @template T */
final class Page
{
    /** @param list<T> $entries */
    public function __construct(
        public readonly array $entries,
        public readonly int $total,
        public readonly int $offset,
    ) {
    }

    /** Whether entries follow this page. */
    public function hasMore(): bool
    {
        return $this->offset + count($this->entries) < $this->total;
    }
}
