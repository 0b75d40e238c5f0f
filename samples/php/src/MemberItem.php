<?php
/* MemberItem: an item a member owns (ListMemberItems), worn or not. A retired
 * item stays owned. */

declare(strict_types=1);

namespace Kisekae;

final class MemberItem
{
    public function __construct(
        public readonly int $itemId,
        public readonly int $categoryId,
        public readonly string $name,
        public readonly string $status,
        public readonly bool $worn,
        public readonly \DateTimeImmutable $grantedAt,
    ) {
    }

    /** @internal */
    public static function fromSoap(object $o): self
    {
        return new self((int) $o->itemId, (int) $o->categoryId, (string) $o->name,
                        (string) $o->status, (bool) $o->worn,
                        new \DateTimeImmutable((string) $o->grantedAt));
    }
}
