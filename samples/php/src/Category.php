<?php
/* Category: a category of catalog items (body, hair, top...). Items of an
 * exclusive category are worn one at a time; a required category always has
 * one worn (defaultItemId for new avatars). */

declare(strict_types=1);

namespace Kisekae;

final class Category
{
    public function __construct(
        public readonly int $id,
        public readonly string $name,
        public readonly int $zOrder,
        public readonly bool $exclusive,
        public readonly bool $required,
        public readonly ?int $defaultItemId,
    ) {
    }

    /** @internal */
    public static function fromSoap(object $o): self
    {
        return new self((int) $o->id, (string) $o->name, (int) $o->zOrder, (bool) $o->exclusive,
                        (bool) $o->required,
                        isset($o->defaultItemId) ? (int) $o->defaultItemId : null);
    }
}
