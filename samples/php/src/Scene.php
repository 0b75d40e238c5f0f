<?php
/* Scene: an album background and the slots avatars stand in (ListScenes).
 * Slot 0 is the member's own, the others are for friends: a photo takes up
 * to count(slots) - 1 friends. Each slot is ['x' => int, 'y' => int]. */

declare(strict_types=1);

namespace Kisekae;

final class Scene
{
    /** @param list<array{x:int,y:int}> $slots */
    public function __construct(
        public readonly int $id,
        public readonly string $name,
        public readonly int $width,
        public readonly int $height,
        public readonly string $sha256,
        public readonly array $slots,
    ) {
    }

    /** @internal */
    public static function fromSoap(object $o): self
    {
        $slots = [];
        foreach ($o->slot ?? [] as $s)
            $slots[] = ['x' => (int) $s->x, 'y' => (int) $s->y];
        return new self((int) $o->id, (string) $o->name, (int) $o->width, (int) $o->height,
                        (string) $o->sha256, $slots);
    }

    /** How many friends a photo of this scene can hold. */
    public function friendSlots(): int
    {
        return max(0, count($this->slots) - 1);
    }
}
