<?php
/* Preview: a try-on (PreviewAvatar): the PNG bytes of the outfit with the
 * change and what it wears. Nothing was saved. */

declare(strict_types=1);

namespace Kisekae;

final class Preview
{
    /** @param list<int> $wornItemIds */
    public function __construct(
        public readonly string $png,
        public readonly array $wornItemIds,
    ) {
    }

    /** The PNG as a data: URL, for an <img> on the page that asked. */
    public function dataUrl(): string
    {
        return 'data:image/png;base64,' . base64_encode($this->png);
    }
}
