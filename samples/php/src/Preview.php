<?php
/* Preview: a try-on (PreviewAvatar): the PNG bytes of the outfit with the
 * change, what it wears and in which colours (item id => "#RRGGBB"). Nothing
 * was saved. */

declare(strict_types=1);

namespace Kisekae;

final class Preview
{
    /** @param list<int> $wornItemIds @param array<int, string> $colours */
    public function __construct(
        public readonly string $png,
        public readonly array $wornItemIds,
        public readonly array $colours = [],
    ) {
    }

    /** The PNG as a data: URL, for an <img> on the page that asked. */
    public function dataUrl(): string
    {
        return 'data:image/png;base64,' . base64_encode($this->png);
    }
}
