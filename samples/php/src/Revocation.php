<?php
/* Revocation: the outcome of RevokeItem: whether the member owned and wore
 * the item, and the avatar afterwards (a new version when it was worn). */

declare(strict_types=1);

namespace Kisekae;

final class Revocation
{
    public function __construct(
        public readonly int $itemId,
        public readonly bool $wasOwned,
        public readonly bool $wasWorn,
        public readonly Avatar $avatar,
    ) {
    }
}
