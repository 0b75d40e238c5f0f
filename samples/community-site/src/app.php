<?php
/* app.php: the demo community site's pages and actions, one function each,
 * chosen by method and path (see ROUTES). Pages are GETs and change nothing;
 * every change is a POST carrying the session's CSRF token, answered with a
 * redirect (303) to the page that shows the result and a message.
 *
 *   GET  /profile[?member=ID]   a member's profile: avatar, thumbnail, outfit, friends
 *   GET  /dressup               the dress-up room: categories, the member's items, try-on,
 *                               colours of the worn tintable items
 *   GET  /tryon.png             a try-on PNG (PreviewAvatar) for the member; saves nothing
 *   GET  /shop                  published items the member lacks
 *   GET  /album                 the member's album and the form to take a photo
 *   POST /switch                log in as another member of the community
 *   POST /dressup/save          ChangeOutfit with what was tried on (items and colours)
 *   POST /shop/get              GrantItem
 *   POST /album/create          CreateAlbumPhoto
 *   POST /album/delete          DeleteAlbumPhoto */

declare(strict_types=1);

require __DIR__ . '/bootstrap.php';

use Kisekae\Avatar;
use Kisekae\KisekaeException;

const ROUTES = [
    'GET /' => 'page_home',
    'GET /profile' => 'page_profile',
    'GET /dressup' => 'page_dressup',
    'GET /tryon.png' => 'image_tryon',
    'GET /shop' => 'page_shop',
    'GET /album' => 'page_album',
    'POST /switch' => 'action_switch',
    'POST /dressup/save' => 'action_save_outfit',
    'POST /shop/get' => 'action_get_item',
    'POST /album/create' => 'action_create_photo',
    'POST /album/delete' => 'action_delete_photo',
];
const MAX_TRY = 64;             // items in one try-on (the API's limit for wear and remove)
const ALBUM_PAGE = 12;

/* ---- request parameters ------------------------------------------------------ */

/** A list of item ids from $source[$key] (at most MAX_TRY, positive, each once). */
function id_list(array $source, string $key): array
{
    $ids = [];
    foreach ((array) ($source[$key] ?? []) as $value)
        if (is_string($value) && ctype_digit($value) && (int) $value > 0 && count($ids) < MAX_TRY)
            $ids[(int) $value] = true;
    return array_keys($ids);
}

/** The tints of $source['colour'] (item id => "#RRGGBB", as a colour input
 * sends it): the well-formed ones, at most MAX_TRY, uppercase.
 * @return array<int, string> */
function colour_map(array $source): array
{
    $colours = [];
    foreach ((array) ($source['colour'] ?? []) as $id => $colour)
        if (is_int($id) && $id > 0 && is_string($colour) &&
            preg_match('/^#[0-9A-Fa-f]{6}$/D', $colour) && count($colours) < MAX_TRY)
            $colours[$id] = strtoupper($colour);
    ksort($colours);
    return $colours;
}

function int_param(array $source, string $key): ?int
{
    $value = $source[$key] ?? null;
    return is_string($value) && ctype_digit($value) && strlen($value) < 10 ? (int) $value : null;
}

/** /dressup's query string for a try-on ($colours: item id => "#RRGGBB"). */
function dressup_url(?int $category, array $wear = [], array $remove = [],
                     ?int $saved = null, array $colours = []): string
{
    $query = http_build_query(array_filter(['category' => $category, 'wear' => $wear,
                                            'remove' => $remove, 'colour' => $colours,
                                            'saved' => $saved]));
    return '/dressup' . ($query === '' ? '' : '?' . $query);
}

/** The picture of the member wearing $itemId (/tryon.png). The avatar's
 * version is in the URL: the browser keeps a picture for a minute, and a
 * saved outfit changes what the picture shows. */
function tryon_url(Avatar $avatar, int $itemId): string
{
    return '/tryon.png?' . http_build_query(['v' => $avatar->version, 'wear' => [$itemId]]);
}

/* ---- the community's members ------------------------------------------------------ */

/** Every member's avatar, keyed by id; members the API does not know yet get
 * their avatar now (CreateAvatar), so the switcher always works.
 * @return array<string, Avatar> */
function community(): array
{
    static $avatars = null;
    if ($avatars !== null)
        return $avatars;
    $avatars = api()->getAvatars(members());
    foreach (members() as $id) {
        if (isset($avatars[$id]))
            continue;
        try {
            $avatars[$id] = welcome_outfit(api()->createAvatar($id));
        } catch (KisekaeException $e) {
            if ($e->getFaultCode() !== 'Conflict')      // created meanwhile
                throw $e;
            $avatars[$id] = api()->getAvatar($id);
        }
    }
    return array_replace(array_flip(members()), $avatars);
}

/** A new member of the community gets a starter outfit: one item of each
 * optional exclusive category (hair, top...), the Nth of each for the Nth
 * member, so friends look different. The bare avatar stays if that fails:
 * it is a nicety. */
function welcome_outfit(Avatar $avatar): Avatar
{
    try {
        [$categories, $items] = catalog();
        $n = (int) array_search($avatar->userId, members(), true);
        $wear = [];
        foreach ($categories as $c) {
            $choice = array_values(array_filter($items, fn($i) => $i->categoryId === $c->id));
            if ($c->exclusive && !$c->required && $choice)
                $wear[] = $choice[$n % count($choice)]->id;
        }
        foreach ($wear as $itemId)
            api()->grantItem($avatar->userId, $itemId);
        return $wear ? api()->changeOutfit($avatar->userId, $wear) : $avatar;
    } catch (KisekaeException) {
        return $avatar;
    }
}

/** [categories by id, items by id] of the catalog (published items). */
function catalog(): array
{
    static $catalog = null;
    if ($catalog !== null)
        return $catalog;
    $categories = [];
    foreach (api()->listCategories() as $c)
        $categories[$c->id] = $c;
    $items = [];
    foreach (api()->allItems() as $item)
        $items[$item->id] = $item;
    return $catalog = [$categories, $items];
}

/** A page that could not be drawn because a call failed: the layout with the
 * friendly message (and a 503 when nothing answered). */
function page_failed(string $title, KisekaeException $e, string $nav = ''): never
{
    $status = in_array($e->getFaultCode(), [KisekaeException::UNREACHABLE, 'DatabaseUnavailable',
                                            'ImageServerUnavailable'], true) ? 503 : 500;
    render('failed', ['title' => $title, 'nav' => $nav, 'errors' => [friendly($e)]], $status);
}

/* ---- pages ----------------------------------------------------------------------- */

function page_home(): never
{
    redirect('/profile');
}

function page_profile(): never
{
    $me = current_member();
    $who = $_GET['member'] ?? $me;
    if (!is_string($who) || !in_array($who, members(), true))
        render('failed', ['title' => 'Profile',
                          'errors' => ['There is no such member in this community.']], 404);
    try {
        $avatars = community();
        [$categories, $items] = catalog();
        $owned = api()->listMemberItems($who, null, 0, 1)->total;
        $photos = api()->listAlbumPhotos($who, 0, 1)->total;
    } catch (KisekaeException $e) {
        page_failed('Profile', $e, 'profile');
    }
    $avatar = $avatars[$who];
    allow_image($avatar->url);
    $worn = [];
    foreach ($avatar->wornItemIds as $id) {
        $item = $items[$id] ?? null;
        $worn[] = ['name' => $item->name ?? "item $id",
                   'category' => $item ? ($categories[$item->categoryId]->name ?? '') : ''];
    }
    render('profile', ['title' => display_name($who), 'nav' => 'profile', 'who' => $who,
                       'me' => $me, 'avatar' => $avatar, 'worn' => $worn, 'owned' => $owned,
                       'photos' => $photos,
                       'friends' => array_values(array_diff(members(), [$who]))]);
}

function page_dressup(): never
{
    $me = current_member();
    $wear = id_list($_GET, 'wear');
    $remove = array_values(array_diff(id_list($_GET, 'remove'), $wear));
    $saved = int_param($_GET, 'saved');
    $errors = [];
    try {
        community();
        $avatar = api()->getAvatar($me, $saved);
        $categories = api()->listCategories();
        $mine = api()->allMemberItems($me);
    } catch (KisekaeException $e) {
        page_failed('Dress-up room', $e, 'dressup');
    }
    allow_image($avatar->url);
    $category = int_param($_GET, 'category');
    $counts = array_count_values(array_map(fn($m) => $m->categoryId, $mine));
    if ($category === null || !isset($counts[$category]))
        foreach ($categories as $c)
            if (isset($counts[$c->id])) {
                $category = $c->id;
                break;
            }
    $colours = colour_map($_GET);
    $preview = null;
    if ($wear || $remove || $colours) {
        try {
            $preview = api()->previewAvatar($me, $wear, $remove, $colours);
        } catch (KisekaeException $e) {
            $errors[] = friendly($e);
            $wear = $remove = $colours = [];
        }
    }
    $wearing = $preview ? $preview->wornItemIds : $avatar->wornItemIds;
    $cards = [];
    foreach ($mine as $m) {
        if ($m->categoryId !== $category)
            continue;
        $on = in_array($m->itemId, $wearing, true);
        $cards[] = [
            'item' => $m,
            'on' => $on,
            /* Try on: add to wear; take off: add to remove (and forget its
             * colour). The rest of the try-on stays. */
            'toggle' => $on
                ? dressup_url($category, array_values(array_diff($wear, [$m->itemId])),
                              array_values(array_unique([...$remove, $m->itemId])), null,
                              array_diff_key($colours, [$m->itemId => true]))
                : dressup_url($category, array_values(array_unique([...$wear, $m->itemId])),
                              array_values(array_diff($remove, [$m->itemId])), null, $colours),
        ];
    }
    $current = null;
    foreach ($categories as $c)
        if ($c->id === $category)
            $current = $c;
    render('dressup', ['title' => 'Dress-up room', 'nav' => 'dressup', 'errors' => $errors,
                       'me' => $me, 'avatar' => $avatar, 'preview' => $preview, 'wear' => $wear,
                       'remove' => $remove, 'colours' => $colours,
                       'tintable' => tintable_worn($wearing, $preview ?? $avatar),
                       'categories' => $categories, 'counts' => $counts, 'category' => $current,
                       'cards' => $cards, 'saved' => $saved]);
}

/** The worn items with a tintable layer and the colour each shows in
 * $shown (an Avatar or a Preview; white, which changes nothing, when it has
 * none), for the colour pickers. Items the catalog no longer lists (retired)
 * get none.
 * @param list<int> $wearing @return list<array{item: Kisekae\Item, colour: string}> */
function tintable_worn(array $wearing, object $shown): array
{
    try {
        $items = catalog()[1];
    } catch (KisekaeException) {
        return [];
    }
    $out = [];
    foreach ($wearing as $id)
        if (isset($items[$id]) && $items[$id]->tintable())
            $out[] = ['item' => $items[$id], 'colour' => $shown->colours[$id] ?? '#FFFFFF'];
    return $out;
}

/** The member wearing ?wear[] without ?remove[], as a PNG (the cards' pictures). */
function image_tryon(): never
{
    $wear = id_list($_GET, 'wear');
    $remove = id_list($_GET, 'remove');
    try {
        $png = api()->previewAvatar(current_member(), $wear, $remove)->png;
    } catch (KisekaeException $e) {
        http_response_code($e->getFaultCode() === KisekaeException::UNREACHABLE ? 503 : 404);
        header('Content-Type: text/plain; charset=utf-8');
        echo friendly($e), "\n";
        exit;
    }
    header('Content-Type: image/png');
    header('Cache-Control: private, max-age=60');
    header('X-Content-Type-Options: nosniff');
    echo $png;
    exit;
}

function page_shop(): never
{
    $me = current_member();
    try {
        $avatar = community()[$me];
        [$categories, $items] = catalog();
        $owned = array_map(fn($m) => $m->itemId, api()->allMemberItems($me));
    } catch (KisekaeException $e) {
        page_failed('Shop', $e, 'shop');
    }
    $forSale = array_values(array_filter($items, fn($item) => !in_array($item->id, $owned, true)));
    render('shop', ['title' => 'Shop', 'nav' => 'shop', 'me' => $me, 'avatar' => $avatar,
                    'items' => $forSale,
                    'categories' => $categories]);
}

function page_album(): never
{
    $me = current_member();
    $offset = int_param($_GET, 'offset') ?? 0;
    try {
        $avatars = community();
        $scenes = api()->listScenes();
        $photos = api()->listAlbumPhotos($me, $offset, ALBUM_PAGE);
    } catch (KisekaeException $e) {
        page_failed('Album', $e, 'album');
    }
    $base = image_base($avatars[$me]->url);
    $sceneNames = [];
    foreach ($scenes as $s)
        $sceneNames[$s->id] = $s->name;
    foreach ($photos->entries as $p)
        allow_image($p->url);
    render('album', ['title' => 'Album', 'nav' => 'album', 'me' => $me, 'scenes' => $scenes,
                     'sceneBase' => $base === null ? null : allow_image($base),
                     'sceneNames' => $sceneNames,
                     'photos' => $photos, 'friends' => array_values(array_diff(members(), [$me])),
                     'maxFriends' => $scenes
                         ? min(4, max(array_map(fn($s) => $s->friendSlots(), $scenes))) : 0]);
}

/* ---- actions: POST, CSRF-checked, then a redirect -------------------------------- */

/** Waits (up to 3 s) until $visible() holds. The lists the next page shows
 * come from a database replica, which may be a moment behind the change just
 * made; the member should see the change. A failed read ends the wait (the
 * next page shows the message). */
function settle(callable $visible): void
{
    $deadline = microtime(true) + 3.0;
    try {
        while (!$visible() && microtime(true) < $deadline)
            usleep(100000);
    } catch (KisekaeException) {
    }
}

/** @return list<int> the ids of the member's newest album photos (the album page's first page) */
function newest_photo_ids(string $member): array
{
    return array_map(fn($p) => $p->id, api()->listAlbumPhotos($member, 0, ALBUM_PAGE)->entries);
}

function action_switch(): never
{
    $member = $_POST['member'] ?? null;
    if (!is_string($member) || !in_array($member, members(), true)) {
        flash('error', 'There is no such member in this community.');
        redirect('/profile');
    }
    session_regenerate_id(true);
    $_SESSION['member'] = $member;
    flash('ok', 'Hello, ' . display_name($member) . '!');
    $back = $_POST['back'] ?? '/profile';
    $pages = ['/profile', '/dressup', '/shop', '/album'];
    redirect(is_string($back) && in_array($back, $pages, true) ? $back : '/profile');
}

function action_save_outfit(): never
{
    $me = current_member();
    $wear = id_list($_POST, 'wear');
    $remove = array_values(array_diff(id_list($_POST, 'remove'), $wear));
    $colours = colour_map($_POST);
    $category = int_param($_POST, 'category');
    if (!$wear && !$remove && !$colours) {
        flash('error', 'Try something on first, then save.');
        redirect(dressup_url($category));
    }
    try {
        $avatar = api()->changeOutfit($me, $wear, $remove, $colours);
    } catch (KisekaeException $e) {
        flash('error', friendly($e));
        redirect(dressup_url($category, $wear, $remove, null, $colours));
    }
    flash('ok', "Saved! Everyone now sees your new look (version {$avatar->version}).");
    redirect(dressup_url($category, [], [], $avatar->version));
}

function action_get_item(): never
{
    $me = current_member();
    $itemId = int_param($_POST, 'item');
    if ($itemId === null) {
        flash('error', 'Pick an item to get.');
        redirect('/shop');
    }
    try {
        $item = api()->getItem($itemId);
        if ($item->status !== 'published')
            throw new KisekaeException('NotFound', 'not for sale', 'GetItem');
        $already = api()->grantItem($me, $itemId);
        $ownedIds = fn() => array_map(fn($m) => $m->itemId, api()->allMemberItems($me));
        settle(fn() => in_array($itemId, $ownedIds(), true));
    } catch (KisekaeException $e) {
        flash('error', $e->getFaultCode() === 'NotFound' ? 'That item is no longer in the shop.'
                                                          : friendly($e));
        redirect('/shop');
    }
    flash('ok', $already ? "You already have {$item->name}."
                         : "{$item->name} is yours! Try it on in the dress-up room.");
    redirect('/shop');
}

function action_create_photo(): never
{
    $me = current_member();
    $sceneId = int_param($_POST, 'scene');
    $picked = array_filter((array) ($_POST['friend'] ?? []), 'is_string');
    $friends = array_values(array_intersect(array_diff(members(), [$me]), $picked));
    $caption = trim(is_string($_POST['caption'] ?? null) ? $_POST['caption'] : '');
    if ($sceneId === null) {
        flash('error', 'Pick a scene for the photo.');
        redirect('/album');
    }
    if (strlen($caption) > 200) {
        flash('error', 'The caption is too long (200 bytes at most).');
        redirect('/album');
    }
    try {
        $scene = null;
        foreach (api()->listScenes() as $s)
            if ($s->id === $sceneId)
                $scene = $s;
        if ($scene === null) {
            flash('error', 'That scene is not there any more.');
            redirect('/album');
        }
        if (count($friends) > min(4, $scene->friendSlots())) {
            flash('error', "\"{$scene->name}\" has room for " . min(4, $scene->friendSlots()) .
                           ' friends; pick fewer.');
            redirect('/album');
        }
        $photo = api()->createAlbumPhoto($me, $sceneId, $friends,
                                         $caption === '' ? null : $caption);
        settle(fn() => in_array($photo->id, newest_photo_ids($me), true));
    } catch (KisekaeException $e) {
        flash('error', friendly($e));
        redirect('/album');
    }
    flash('ok', "Say cheese! Photo {$photo->id} is in your album.");
    redirect('/album');
}

function action_delete_photo(): never
{
    $me = current_member();
    $photoId = int_param($_POST, 'photo');
    try {
        if ($photoId === null)
            throw new KisekaeException('NotFound', 'no photo', 'DeleteAlbumPhoto');
        api()->deleteAlbumPhoto($me, $photoId);
        settle(fn() => !in_array($photoId, newest_photo_ids($me), true));
    } catch (KisekaeException $e) {
        flash('error', $e->getFaultCode() === 'NotFound'
                           ? 'That photo is not in your album any more.' : friendly($e));
        redirect('/album');
    }
    flash('ok', 'The photo was deleted.');
    redirect('/album');
}

/* ---- dispatch -------------------------------------------------------------------- */

$method = $_SERVER['REQUEST_METHOD'] ?? 'GET';
$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
$path = rtrim($path, '/') ?: '/';
$handler = ROUTES[($method === 'HEAD' ? 'GET' : $method) . ' ' . $path] ?? null;

if ($handler === 'image_tryon') {
    read_session();                 // a picture never creates, changes or locks the session
    image_tryon();
}
start_session();
if ($handler === null) {
    $known = array_filter(array_keys(ROUTES), fn($r) => explode(' ', $r, 2)[1] === $path);
    if ($known) {
        header('Allow: ' . implode(', ', array_map(fn($r) => explode(' ', $r, 2)[0], $known)));
        render('failed', ['title' => 'Not here',
                          'errors' => ['That page cannot be used that way.']], 405);
    }
    render('failed', ['title' => 'Not found',
                      'errors' => ['There is no such page. Try the links above.']], 404);
}
if ($method === 'POST' && !csrf_ok())
    render('failed', ['title' => 'Expired form', 'errors' =>
        ['That form has expired. Please reload the page and try again.']], 403);
try {
    $handler();
} catch (InvalidArgumentException $e) {       // the site's configuration
    render('failed', ['title' => 'Not configured', 'errors' =>
        ['This site is not configured yet: ' . $e->getMessage() . '.']], 500);
} catch (KisekaeException $e) {
    page_failed('Oops', $e);
}
