<?php
/* AlbumPhoto: a JPEG of a scene with a member and friends (CreateAlbumPhoto,
 * ListAlbumPhotos). members lists who stood in each slot, as arrays with the
 * keys slot, userId, avatarVersion; slot 0 is the album's owner. */

declare(strict_types=1);

namespace Kisekae;

final class AlbumPhoto
{
    /** @param list<array{slot:int,userId:string,avatarVersion:int}> $members */
    public function __construct(
        public readonly int $id,
        public readonly string $userId,
        public readonly int $sceneId,
        public readonly ?string $caption,
        public readonly string $url,
        public readonly \DateTimeImmutable $createdAt,
        public readonly array $members,
    ) {
    }

    /** @internal */
    public static function fromSoap(object $o): self
    {
        $members = [];
        foreach ($o->member ?? [] as $m)
            $members[] = ['slot' => (int) $m->slot, 'userId' => (string) $m->userId,
                          'avatarVersion' => (int) $m->avatarVersion];
        return new self((int) $o->id, (string) $o->userId, (int) $o->sceneId,
                        isset($o->caption) ? (string) $o->caption : null, (string) $o->url,
                        new \DateTimeImmutable((string) $o->createdAt), $members);
    }

    /** @return list<string> the friends in the photo, in slot order */
    public function friendUserIds(): array
    {
        $friends = array_filter($this->members, fn(array $m) => $m['slot'] > 0);
        usort($friends, fn(array $a, array $b) => $a['slot'] <=> $b['slot']);
        return array_column($friends, 'userId');
    }
}
