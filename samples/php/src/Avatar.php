<?php
/* Avatar: a member's avatar as the API describes it (GetAvatar, ChangeOutfit,
 * CreateAvatar...). url and thumbUrl carry the version, so an <img> of them
 * is never stale; wornItemIds is always a list. */

declare(strict_types=1);

namespace Kisekae;

final class Avatar
{
    /** @param list<int> $wornItemIds */
    public function __construct(
        public readonly string $userId,
        public readonly int $version,
        public readonly string $imageServer,
        public readonly string $url,
        public readonly string $thumbUrl,
        public readonly array $wornItemIds,
    ) {
    }

    /** @internal from ext/soap's answer object */
    public static function fromSoap(object $o): self
    {
        return new self((string) $o->userId, (int) $o->version, (string) $o->imageServer,
                        (string) $o->url, (string) $o->thumbUrl,
                        array_map('intval', $o->wornItemId ?? []));
    }

    public function wears(int $itemId): bool
    {
        return in_array($itemId, $this->wornItemIds, true);
    }
}
