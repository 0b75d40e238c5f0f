<?php
/* walkthrough.php: every site operation of the kisekae API through
 * Kisekae\Client against a live stack, each answer checked.
 *
 *   KISEKAE_API_URLS="http://127.0.0.1:17010/" KISEKAE_SITE_USER=... \
 *   KISEKAE_SITE_PASSWORD=... KISEKAE_SAMPLE_RUN=abc php samples/php/walkthrough.php
 *
 * It creates two members (walk-php-RUN-a and its friend walk-php-RUN-b),
 * picks a published item of the stack's catalog that no new member wears,
 * needs a scene (ListScenes) for the album photo, and deletes its members at
 * the end. Reads other than GetAvatar with minVersion come from a replica,
 * which may be a moment behind: a read that checks a change just made is
 * repeated for up to 5 s until it shows it. One line per operation; the last line is
 * "walkthrough php: passed (N operations)", else "FAIL op: why" and exit 1.
 * It also colours a tintable item (the sample catalog's hair) and checks a
 * signed webhook payload with Kisekae\Webhook::verify (good, tampered, stale). */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

use Kisekae\Client;
use Kisekae\KisekaeException;
use Kisekae\Webhook;

$operations = 0;

function ok(string $op, string $text): void
{
    global $operations;
    $operations++;
    printf("ok   %-17s %s\n", $op, $text);
}

function fail(string $op, string $why): never
{
    echo "FAIL $op: $why\n";
    exit(1);
}

function check(bool $cond, string $op, string $text): void
{
    $cond ? ok($op, $text) : fail($op, $text);
}

/** Calls $call, which must fail with the fault $code. */
function expect_fault(string $code, string $op, callable $call): KisekaeException
{
    try {
        $call();
    } catch (KisekaeException $e) {
        if ($e->getFaultCode() !== $code)
            fail($op, "expected a $code fault, got {$e->getFaultCode()}: {$e->getMessage()}");
        return $e;
    }
    fail($op, "expected a $code fault, the call succeeded");
}

/** $read() again until $ok(answer) holds, for up to $seconds (a replica may
 * be a moment behind the master); returns the last answer. */
function eventually(callable $read, callable $ok, float $seconds = 5.0): mixed
{
    $deadline = microtime(true) + $seconds;
    while (!$ok($answer = $read()) && microtime(true) < $deadline)
        usleep(100000);
    return $answer;
}

/** [width, height] of PNG bytes, or null. */
function png_size(string $data): ?array
{
    if (strlen($data) < 24 || !str_starts_with($data, "\x89PNG\r\n\x1a\n") ||
        substr($data, 12, 4) !== 'IHDR')
        return null;
    $wh = unpack('Nw/Nh', substr($data, 16, 8));
    return [$wh['w'], $wh['h']];
}

/** The body of a GET of $url (following redirects), or the reason it failed. */
function download(string $url): array
{
    $context = stream_context_create(['http' => ['timeout' => 20, 'ignore_errors' => true]]);
    $body = @file_get_contents($url, false, $context);
    $status = $http_response_header[0] ?? 'no answer';
    /* After redirects the last status line is the one that counts. */
    foreach ($http_response_header ?? [] as $line)
        if (str_starts_with($line, 'HTTP/'))
            $status = $line;
    return [$body === false ? '' : $body, $status];
}

function ids(array $ids): string
{
    return $ids ? implode(' ', $ids) : '(none)';
}

if ($argc > 1) {
    $help = in_array($argv[1], ['-h', '--help'], true);
    fwrite($help ? STDOUT : STDERR,
           "usage: php walkthrough.php   (no arguments; it reads KISEKAE_API_URLS,\n" .
           "KISEKAE_SITE_USER, KISEKAE_SITE_PASSWORD and KISEKAE_SAMPLE_RUN from the\n" .
           "environment)\n");
    exit($help ? 0 : 2);
}
$run = getenv('KISEKAE_SAMPLE_RUN') ?: (string) getmypid();
if (!preg_match('/^[A-Za-z0-9_-]{1,32}$/', $run))
    fail('setup', 'KISEKAE_SAMPLE_RUN must be 1 to 32 letters, digits, - or _');
$canvas = array_map('intval', explode('x', getenv('KISEKAE_CANVAS') ?: '240x320'));
$member = "walk-php-$run-a";
$friend = "walk-php-$run-b";

try {
    $api = Client::fromEnvironment(['timeout' => 30]);
} catch (InvalidArgumentException $e) {
    fail('setup', $e->getMessage());
}

try {
    /* ---- the catalog */
    $categories = $api->listCategories();
    check(array_is_list($categories) && count($categories) > 0, 'ListCategories',
          count($categories) . ' categories: ' .
          implode(', ', array_map(fn($c) => $c->name, $categories)));
    $one = $api->listCategories($categories[0]->name);
    check(array_is_list($one) && count($one) === 1 && $one[0]->id === $categories[0]->id,
          'ListCategories', "by name \"{$categories[0]->name}\": a list of one (id {$one[0]->id})");
    $byId = [];
    foreach ($categories as $c)
        $byId[$c->id] = $c;

    $page = $api->listItems(null, 0, 2);
    check(count($page->entries) <= 2 && $page->total >= count($page->entries) && $page->total > 0,
          'ListItems', "a page of " . count($page->entries) . " of {$page->total} published items");
    $items = $api->allItems();
    check(count($items) === $page->total, 'ListItems', 'every page: ' . count($items) . ' items');
    /* An item no new member wears: a category that is neither required nor has a default. */
    $item = null;
    foreach ($items as $candidate) {
        $category = $byId[$candidate->categoryId] ?? null;
        if ($candidate->status === 'published' && $category !== null && !$category->required &&
            $category->defaultItemId === null) {
            $item = $candidate;
            break;
        }
    }
    if ($item === null)
        fail('ListItems', 'the catalog has no published item of an optional category');

    $got = $api->getItem($item->id);
    check($got->id === $item->id && $got->name === $item->name && count($got->layers) >= 1 &&
          array_is_list($got->layers), 'GetItem',
          "item {$got->id} \"{$got->name}\" ({$byId[$got->categoryId]->name}), " .
          count($got->layers) . ' layer(s)');
    expect_fault('NotFound', 'GetItem', fn() => $api->getItem(2000000000));
    ok('GetItem', 'an unknown item: NotFound');

    $scenes = $api->listScenes();
    if (!$scenes)
        fail('ListScenes',
             'the stack has no scene: register one (RegisterScene, as admin) for the album photo');
    $scene = $scenes[0];
    check(array_is_list($scenes) && count($scene->slots) >= 1, 'ListScenes',
          count($scenes) . " scene(s); \"{$scene->name}\" {$scene->width}x{$scene->height} with " .
          count($scene->slots) . ' slot(s)');

    /* ---- members */
    foreach ([$member, $friend] as $id) {          // a run that died left them
        try {
            $api->deleteAvatar($id);
        } catch (KisekaeException $e) {
            if ($e->getFaultCode() !== 'NotFound')
                throw $e;
        }
    }
    $avatar = $api->createAvatar($member);
    $base = $avatar->wornItemIds;
    check($avatar->userId === $member && $avatar->version >= 1 && array_is_list($base) &&
          !$avatar->wears($item->id), 'CreateAvatar',
          "$member version {$avatar->version} on {$avatar->imageServer}, wearing " . ids($base));
    $created = $avatar->version;
    $friendAvatar = $api->createAvatar($friend);
    ok('CreateAvatar', "$friend version {$friendAvatar->version}");
    expect_fault('Conflict', 'CreateAvatar', fn() => $api->createAvatar($member));
    ok('CreateAvatar', 'the same id again: Conflict');

    $avatar = $api->getAvatar($member, $created);
    check($avatar->version === $created && $avatar->wornItemIds == $base, 'GetAvatar',
          "version {$avatar->version} (minVersion $created): {$avatar->url}");
    $missing = "walk-php-$run-nobody";
    $avatars = eventually(fn() => $api->getAvatars([$member, $friend, $missing]),
                          fn($a) => count($a) === 2);
    check(array_keys($avatars) === [$member, $friend], 'GetAvatars',
          'asked 3, got ' . implode(', ', array_keys($avatars)) . " ($missing left out)");

    /* ---- inventory and outfit */
    $e = expect_fault('NotOwned', 'ChangeOutfit', fn() => $api->changeOutfit($member, [$item->id]));
    check($e->getSoapFaultCode() !== null && str_ends_with($e->getSoapFaultCode(), 'Client'),
          'ChangeOutfit', "item {$item->id} before a grant: NotOwned " .
          "({$e->getSoapFaultCode()}: {$e->getMessage()})");
    $already = $api->grantItem($member, $item->id);
    check($already === false, 'GrantItem', "item {$item->id} to $member (new)");
    check($api->grantItem($member, $item->id) === true, 'GrantItem',
          'again: already owned, no error');

    $avatar = $api->changeOutfit($member, [$item->id]);
    check($avatar->version === $created + 1 && $avatar->wears($item->id) &&
          array_is_list($avatar->wornItemIds), 'ChangeOutfit',
          "version {$avatar->version}, wearing " . ids($avatar->wornItemIds));
    $changed = $avatar;

    [$png, $status] = download($changed->url);
    check(png_size($png) === $canvas, 'download',
          "$status, " . strlen($png) . " bytes, PNG {$canvas[0]}x{$canvas[1]}");
    [$thumb, $status] = download($changed->thumbUrl);
    check(png_size($thumb) !== null, 'download',
          "thumbnail $status, PNG " . implode('x', png_size($thumb) ?? []));

    $preview = $api->previewAvatar($member, [], [$item->id]);
    $still = $api->getAvatar($member, $changed->version)->version;
    check(png_size($preview->png) === $canvas &&
          !in_array($item->id, $preview->wornItemIds, true) && $still === $changed->version,
          'PreviewAvatar', 'PNG ' . strlen($preview->png) . " bytes {$canvas[0]}x{$canvas[1]} " .
          "without item {$item->id}, wearing " . ids($preview->wornItemIds) .
          "; the avatar stays at version $still");

    $mineOf = fn($page) => array_values(array_filter($page->entries,
                                                     fn($m) => $m->itemId === $item->id));
    $owned = eventually(fn() => $api->listMemberItems($member),
                        fn($p) => ($mineOf($p)[0] ?? null)?->worn);
    $mine = $mineOf($owned);
    check(array_is_list($owned->entries) && count($mine) === 1 && $mine[0]->worn, 'ListMemberItems',
          "{$owned->total} owned, item {$item->id} worn since {$mine[0]->grantedAt->format('c')}");

    $avatar = $api->regenerateAvatar($member);
    check($avatar->version === $changed->version + 1 &&
          $avatar->wornItemIds == $changed->wornItemIds, 'RegenerateAvatar',
          "version {$avatar->version}, same outfit");

    $revoked = $api->revokeItem($member, $item->id);
    check($revoked->wasOwned && $revoked->wasWorn && !$revoked->avatar->wears($item->id) &&
          $revoked->avatar->version === $avatar->version + 1, 'RevokeItem',
          "item {$item->id} was owned and worn; version {$revoked->avatar->version}, wearing " .
          ids($revoked->avatar->wornItemIds));

    /* ---- album */
    $friends = $scene->friendSlots() >= 1 ? [$friend] : [];
    $photo = $api->createAlbumPhoto($member, $scene->id, $friends, "walkthrough $run");
    [$jpeg, $status] = download($photo->url);
    check(str_ends_with($photo->url, "/{$photo->id}.jpg") && $photo->friendUserIds() === $friends &&
          str_starts_with($jpeg, "\xff\xd8\xff"), 'CreateAlbumPhoto',
          "photo {$photo->id} on scene {$scene->id} with " . ids($friends) . ": $status, " .
          strlen($jpeg) . ' bytes of JPEG');
    $album = eventually(fn() => $api->listAlbumPhotos($member), fn($p) => $p->total === 1);
    check($album->total === 1 && array_is_list($album->entries) &&
          $album->entries[0]->id === $photo->id &&
          $album->entries[0]->caption === "walkthrough $run", 'ListAlbumPhotos',
          "a list of one: photo {$album->entries[0]->id} \"{$album->entries[0]->caption}\"");
    $api->deleteAlbumPhoto($member, $photo->id);
    $album = eventually(fn() => $api->listAlbumPhotos($member), fn($p) => $p->total === 0);
    check($album->total === 0, 'DeleteAlbumPhoto', "photo {$photo->id}; the album is empty");
    expect_fault('NotFound', 'DeleteAlbumPhoto',
                 fn() => $api->deleteAlbumPhoto($member, $photo->id));
    ok('DeleteAlbumPhoto', 'the same photo again: NotFound');

    /* ---- tints: a worn item's tintable layers in any colour */
    $hair = null;
    foreach ($items as $candidate)
        if ($candidate->tintable()) {
            $hair = $candidate;
            break;
        }
    if ($hair === null)
        fail('ListItems', 'the catalog has no tintable item (the sample catalog\'s hair is)');
    $api->grantItem($friend, $hair->id);
    $tinted = $api->changeOutfit($friend, [$hair->id], [], [$hair->id => '#3366cc']);
    check($tinted->wears($hair->id) && $tinted->colours === [$hair->id => '#3366CC'],
          'ChangeOutfit', "item {$hair->id} \"{$hair->name}\" in #3366cc: version " .
          "{$tinted->version}, tint {$tinted->colour($hair->id)}, {$tinted->url}, animUrl " .
          ($tinted->animUrl ?? '(none: no animated item worn)'));
    $again = $api->getAvatar($friend, $tinted->version);
    check($again->colours === $tinted->colours, 'GetAvatar',
          "version {$again->version}: tint " . $again->colour($hair->id));
    [$png, $status] = download($tinted->url);
    check(png_size($png) === $canvas, 'download', "the tinted avatar: $status, " .
          strlen($png) . ' bytes of PNG');
    $preview = $api->previewAvatar($friend, [], [], [$hair->id => '#CC3333']);
    check(png_size($preview->png) === $canvas && $preview->colours === [$hair->id => '#CC3333'],
          'PreviewAvatar', "item {$hair->id} in #CC3333: PNG " . strlen($preview->png) .
          ' bytes, tint ' . $preview->colours[$hair->id]);
    $e = expect_fault('InvalidArgument', 'ChangeOutfit',
                      fn() => $api->changeOutfit($friend, [], [], [$hair->id => 'blue']));
    check(!$e->isFault(), 'ChangeOutfit', "colour \"blue\": refused by the client " .
          "(InvalidArgument, not sent: {$e->getMessage()})");

    /* ---- webhooks: a site checks X-Kisekae-Signature before it trusts a body */
    $secret = 'whsec-sample-0123456789abcdef';
    $body = '{"id":"42","type":"avatar.changed","created":"2026-01-01T00:00:00Z",' .
            '"data":{"userId":"alice","version":3}}';
    $signed = 1767225600;
    $header = "t=$signed,v1=8ec7ab68efae06b67c561de35c7c360266a5d4c49646c37f96289724d4ca7e53";
    check(Webhook::verify($body, $header, $secret, Webhook::TOLERANCE, $signed + 60), 'webhook',
          "a signed sample payload, a minute after t=$signed: accepted");
    $tampered = str_replace('"version":3', '"version":4', $body);
    check(!Webhook::verify($tampered, $header, $secret, Webhook::TOLERANCE, $signed + 60),
          'webhook', 'a tampered body ("version":4): refused');
    check(!Webhook::verify($body, $header, 'whsec-another-0123456789abcdef', Webhook::TOLERANCE,
                           $signed + 60), 'webhook', 'another secret: refused');
    check(!Webhook::verify($body, $header, $secret), 'webhook',
          'the same payload now, long after t=' . $signed . ': refused (older than ' .
          Webhook::TOLERANCE . ' s)');

    /* ---- goodbye */
    foreach ([$member, $friend] as $id) {
        $photos = $api->deleteAvatar($id);
        ok('DeleteAvatar', "$id ($photos album photos with it)");
    }
    eventually(function () use ($api, $member) {
        try {
            return $api->getAvatar($member);
        } catch (KisekaeException $e) {
            return $e;
        }
    }, fn($answer) => $answer instanceof KisekaeException);
    expect_fault('NotFound', 'GetAvatar', fn() => $api->getAvatar($member));
    ok('GetAvatar', "$member after DeleteAvatar: NotFound");
} catch (KisekaeException $e) {
    fail($e->getOperation(), "unexpected {$e->getFaultCode()}: {$e->getMessage()}");
}

echo "walkthrough php: passed ($operations operations)\n";
