<?php
/* Item: a catalog item (ListItems, GetItem). status is draft, published or
 * retired; layers lists where each layer sits on the canvas, as arrays with
 * the keys layerNo, zOrder, x, y, width, height, sha256, tintable (whether a
 * colour given at ChangeOutfit recolours it) and role (what hide rules name,
 * '' when none). */

declare(strict_types=1);

namespace Kisekae;

final class Item
{
    /** @param list<array{layerNo:int, zOrder:int, x:int, y:int, width:int, height:int,
     *                   sha256:string, tintable:bool, role:string}> $layers */
    public function __construct(
        public readonly int $id,
        public readonly int $categoryId,
        public readonly string $name,
        public readonly string $status,
        public readonly int $price,
        public readonly array $layers,
    ) {
    }

    /** @internal */
    public static function fromSoap(object $o): self
    {
        $layers = [];
        foreach ($o->layer ?? [] as $l)
            $layers[] = ['layerNo' => (int) $l->layerNo, 'zOrder' => (int) $l->zOrder,
                         'x' => (int) $l->x, 'y' => (int) $l->y, 'width' => (int) $l->width,
                         'height' => (int) $l->height, 'sha256' => (string) $l->sha256,
                         'tintable' => (bool) ($l->tintable ?? false),
                         'role' => (string) ($l->role ?? '')];
        return new self((int) $o->id, (int) $o->categoryId, (string) $o->name, (string) $o->status,
                        (int) $o->price, $layers);
    }

    /** Whether a colour recolours it: it has a tintable layer. */
    public function tintable(): bool
    {
        foreach ($this->layers as $layer)
            if ($layer['tintable'])
                return true;
        return false;
    }
}
