<?php
/* Avatar: a member's avatar as the API describes it (GetAvatar, ChangeOutfit,
 * CreateAvatar...). url and thumbUrl carry the version, so an <img> of them
 * is never stale; wornItemIds is always a list. colours holds the tints:
 * item id => "#RRGGBB" (uppercase) for the worn items worn with a colour.
 * animUrl is the animated PNG (APNG) of the version when it wears animated
 * items, else null (url is its still first frame). */

declare(strict_types=1);

namespace Kisekae;

final class Avatar
{
    /** @param list<int> $wornItemIds @param array<int, string> $colours */
    public function __construct(
        public readonly string $userId,
        public readonly int $version,
        public readonly string $imageServer,
        public readonly string $url,
        public readonly string $thumbUrl,
        public readonly array $wornItemIds,
        public readonly array $colours = [],
        public readonly ?string $animUrl = null,
    ) {
    }

    /** @internal from ext/soap's answer object */
    public static function fromSoap(object $o): self
    {
        return new self((string) $o->userId, (int) $o->version, (string) $o->imageServer,
                        (string) $o->url, (string) $o->thumbUrl,
                        array_map('intval', $o->wornItemId ?? []), self::colours($o),
                        isset($o->animUrl) ? (string) $o->animUrl : null);
    }

    /** @internal the wornColour list of an answer as item id => "#RRGGBB"
     * @return array<int, string> */
    public static function colours(object $o): array
    {
        $colours = [];
        foreach ($o->wornColour ?? [] as $c)
            $colours[(int) $c->itemId] = (string) $c->colour;
        return $colours;
    }

    /** The colour item $itemId is worn in, or null (not worn, or untinted). */
    public function colour(int $itemId): ?string
    {
        return $this->colours[$itemId] ?? null;
    }

    public function wears(int $itemId): bool
    {
        return in_array($itemId, $this->wornItemIds, true);
    }
}
