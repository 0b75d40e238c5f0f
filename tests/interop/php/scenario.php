<?php
/* scenario.php: the interop scenario through PHP's SoapClient (Debian php-cli
 * and php-soap).
 *
 * Builds its client from the WSDL the API serves (KISEKAE_API_URL + "?wsdl")
 * and runs the scenario every language of tests/interop runs, printing one
 * line per step ("ok", "FAIL" or "skip") and exiting 1 on any mismatch. The
 * steps and the environment it reads are described in tests/interop/run.py.
 *
 *   KISEKAE_API_URL=... KISEKAE_SITE_USER=... (see run.py) php scenario.php
 */

const LANG = 'php';
$failures = 0;
$current_step = 'setup';        // named in the message of an unexpected error

function begin(string $step): void
{
    global $current_step;
    $current_step = $step;
}

function ok(string $step, string $text): void
{
    echo "ok   $step: $text\n";
}

function check(bool $cond, string $step, string $text): bool
{
    global $failures;
    echo ($cond ? 'ok  ' : 'FAIL') . " $step: $text\n";
    if (!$cond)
        $failures++;
    return $cond;
}

function fatal(string $step, string $text): never
{
    echo "FAIL $step: $text\n" . LANG . ": FAILED\n";
    exit(1);
}

function env(string $name, ?string $default = null): string
{
    $value = getenv($name);
    if ($value === false || $value === '')
        $value = $default;
    if ($value === null || $value === '') {
        fwrite(STDERR, LANG . ": $name is not set (see tests/interop/run.py)\n");
        exit(2);
    }
    return $value;
}

/* A SoapClient of the served WSDL with Basic auth.
 * - SOAP_SINGLE_ELEMENT_ARRAYS: without it a list of one element comes back
 *   as a bare value instead of an array.
 * - cache_wsdl WSDL_CACHE_NONE: PHP caches WSDLs by URL (in /tmp, for a day
 *   by default) and would not see an operation added to the server.
 * - location: calls go there (the WSDL's own address would do too: the
 *   server writes the address it was asked on into it). */
function client(string $wsdl, string $endpoint, string $user, string $password): SoapClient
{
    return new SoapClient($wsdl, [
        'login' => $user,
        'password' => $password,
        'location' => $endpoint,
        'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
        'cache_wsdl' => WSDL_CACHE_NONE,
        'exceptions' => true,
        'connection_timeout' => 10,
    ]);
}

/* The stable code of a KisekaeFault detail, or null. */
function fault_code(SoapFault $fault): ?string
{
    return $fault->detail->KisekaeFault->code ?? null;
}

/* [width, height] from a PNG's IHDR, or null if data is no PNG. */
function png_size(string $data): ?array
{
    if (strlen($data) < 24 || substr($data, 0, 8) !== "\x89PNG\r\n\x1a\n" ||
        substr($data, 12, 4) !== 'IHDR')
        return null;
    $wh = unpack('Nw/Nh', substr($data, 16, 8));
    return [$wh['w'], $wh['h']];
}

function ids(array $list): string
{
    return '[' . implode(', ', $list) . ']';
}

function same_set(array $a, array $b): bool
{
    sort($a);
    sort($b);
    return $a === $b;
}

function scenario(SoapClient $site, SoapClient $admin, array $operations, string $tag,
                  string $run, string $layers_dir, array $canvas): void
{
    /* ---- catalog: a category of ours and two items in it, made once per
     * language and transport (a run against a reused stack finds them) */
    begin('catalog');
    $category_name = 'interop-' . LANG . "-$tag";
    $answer = $site->ListCategories(['name' => $category_name]);
    $item_ids = [];
    if (!empty($answer->category)) {
        $category = $answer->category[0];
        $items = $site->ListItems(['categoryId' => $category->id]);
        foreach ($items->item ?? [] as $item)
            $item_ids[$item->name] = $item->id;
    } else {
        $category = $admin->RegisterCategory(['name' => $category_name, 'zOrder' => 650,
                                              'exclusive' => false, 'required' => false])->category;
    }
    foreach (['a', 'b'] as $key) {
        $name = "$category_name item $key";
        if (!isset($item_ids[$name])) {
            $png = file_get_contents("$layers_dir/layer-$key.png");   // raw bytes: ext/soap sends base64
            $item = $admin->RegisterItem(['categoryId' => $category->id, 'name' => $name,
                                          'price' => 0, 'layer' => [['png' => $png]]])->item;
            $item_ids[$name] = $item->id;
        }
    }
    $item_a = $item_ids["$category_name item a"];
    $item_b = $item_ids["$category_name item b"];
    ok('catalog', "category $category_name (id {$category->id}), items $item_a and $item_b");

    /* ---- CreateAvatar: a member of this language and run */
    begin('CreateAvatar');
    $user_id = 'interop-' . LANG . "-$tag-$run";
    $avatar = $site->CreateAvatar(['userId' => $user_id])->avatar;
    $base = $avatar->wornItemId ?? [];     // the default items of required categories
    check($avatar->version === 1 && is_array($base), 'CreateAvatar',
          "$user_id version {$avatar->version} on {$avatar->imageServer}, wearing " . ids($base));

    /* ---- fault: wearing an item not owned yet */
    begin('fault');
    try {
        $site->ChangeOutfit(['userId' => $user_id, 'wear' => [$item_a]]);
        check(false, 'fault', 'ChangeOutfit wearing an item not owned succeeded');
    } catch (SoapFault $e) {
        check(fault_code($e) === 'NotOwned' && str_ends_with($e->faultcode, ':Client'), 'fault',
              "ChangeOutfit wearing item $item_a not owned: faultcode {$e->faultcode}, detail code " .
              (fault_code($e) ?? '(none)') . " ({$e->faultstring})");
    }

    /* ---- GrantItem */
    begin('GrantItem');
    foreach ([$item_a, $item_b] as $item_id) {
        $granted = $site->GrantItem(['userId' => $user_id, 'itemId' => $item_id]);
        check($granted->itemId === $item_id && $granted->alreadyOwned === false, 'GrantItem',
              "item {$granted->itemId}, alreadyOwned " . var_export($granted->alreadyOwned, true));
    }

    /* ---- ChangeOutfit: a one-element array, then a two-element array */
    begin('ChangeOutfit');
    $avatar = $site->ChangeOutfit(['userId' => $user_id, 'wear' => [$item_a]])->avatar;
    $worn = $avatar->wornItemId ?? [];
    check($avatar->version === 2 && same_set($worn, [...$base, $item_a]), 'ChangeOutfit [a]',
          "version {$avatar->version}, wearing " . ids($worn));
    $avatar = $site->ChangeOutfit(['userId' => $user_id, 'wear' => [$item_a, $item_b]])->avatar;
    $worn = $avatar->wornItemId ?? [];
    check($avatar->version === 3 && same_set($worn, [...$base, $item_a, $item_b]),
          'ChangeOutfit [a,b]', "version {$avatar->version}, wearing " . ids($worn));
    $changed_url = $avatar->url;

    /* ---- GetAvatar: the version the last change returned (the fault changed nothing) */
    begin('GetAvatar');
    $avatar = $site->GetAvatar(['userId' => $user_id, 'minVersion' => 3])->avatar;
    check($avatar->version === 3 && $avatar->url === $changed_url &&
          str_ends_with($avatar->url, '/3.png'), 'GetAvatar',
          "version {$avatar->version}, {$avatar->url}");

    /* ---- download: the avatar PNG from its URL */
    begin('download');
    $context = stream_context_create(['http' => ['timeout' => 30, 'ignore_errors' => true]]);
    $png = @file_get_contents($avatar->url, false, $context);
    $status = isset($http_response_header[0]) ? $http_response_header[0] : 'no answer';
    $size = $png === false ? null : png_size($png);
    check(str_contains($status, ' 200') && $size === $canvas, 'download',
          "$status, " . ($png === false ? 0 : strlen($png)) . ' bytes, PNG ' .
          ($size ? "{$size[0]}x{$size[1]}" : 'no') . " (canvas {$canvas[0]}x{$canvas[1]})");

    /* ---- PreviewAvatar: the outfit without b, as a PNG (base64 downwards); nothing saved */
    $preview = function () use ($site, $user_id, $item_a, $item_b, $base, $canvas) {
        $answer = $site->PreviewAvatar(['userId' => $user_id, 'remove' => [$item_b]]);
        $size = png_size($answer->png);             // ext/soap decodes base64 into bytes
        $worn = $answer->wornItemId ?? [];
        $still = $site->GetAvatar(['userId' => $user_id, 'minVersion' => 3])->avatar->version;
        check($size === $canvas && same_set($worn, [...$base, $item_a]) && $still === 3,
              'PreviewAvatar', 'PNG ' . ($size ? "{$size[0]}x{$size[1]}" : 'no') .
              ', wearing ' . ids($worn) . ", the avatar still at version $still");
    };

    /* ---- CreateAlbumPhoto: on a scene of ours (layer a as its background, one
     * slot), then the JPEG from its URL */
    $album_photo = function () use ($site, $admin, $user_id, $tag, $layers_dir) {
        $scene_name = 'interop-' . LANG . "-$tag";
        $scene = null;
        foreach ($site->ListScenes()->scene ?? [] as $s)
            if ($s->name === $scene_name)
                $scene = $s;
        if ($scene === null)
            $scene = $admin->RegisterScene(['name' => $scene_name,
                                            'png' => file_get_contents("$layers_dir/layer-a.png"),
                                            'slot' => [['x' => 0, 'y' => 0]]])->scene;
        $photo = $site->CreateAlbumPhoto(['userId' => $user_id, 'sceneId' => $scene->id,
                                          'caption' => 'interop ' . LANG])->photo;
        $context = stream_context_create(['http' => ['timeout' => 30, 'ignore_errors' => true]]);
        $jpeg = @file_get_contents($photo->url, false, $context);
        $status = isset($http_response_header[0]) ? $http_response_header[0] : 'no answer';
        $members = array_map(fn($m) => $m->userId, $photo->member ?? []);
        check(str_ends_with($photo->url, "/{$photo->id}.jpg") && $members === [$user_id] &&
              str_contains($status, ' 200') && $jpeg !== false &&
              substr($jpeg, 0, 3) === "\xff\xd8\xff", 'CreateAlbumPhoto',
              "scene {$scene->id}, photo {$photo->id}: $status, " .
              ($jpeg === false ? 0 : strlen($jpeg)) . ' bytes of JPEG');
    };

    /* ---- operations added lately: each runs when the WSDL has it */
    foreach (['PreviewAvatar' => $preview, 'CreateAlbumPhoto' => $album_photo] as $operation => $step) {
        begin($operation);
        if (!in_array($operation, $operations, true))
            echo "skip: $operation not in WSDL\n";
        elseif ($step === null)
            check(false, $operation, 'the WSDL has it but this client has no step for it yet');
        else
            $step();
    }
}

$url = env('KISEKAE_API_URL');
$tag = env('KISEKAE_INTEROP_TAG', 'manual');
$run = getenv('KISEKAE_INTEROP_RUN') ?: time() . (getmypid() % 1000);
$layers_dir = env('KISEKAE_INTEROP_LAYERS');
$canvas = array_map('intval', explode('x', env('KISEKAE_CANVAS', '240x320')));
$wsdl = "$url?wsdl";

/* ---- wsdl: both roles' clients from the served WSDL */
begin('wsdl');
try {
    $site = client($wsdl, $url, env('KISEKAE_SITE_USER'), env('KISEKAE_SITE_PASSWORD'));
    $admin = client($wsdl, $url, env('KISEKAE_ADMIN_USER'), env('KISEKAE_ADMIN_PASSWORD'));
} catch (SoapFault $e) {
    fatal($current_step, "$wsdl: {$e->getMessage()}");
}
/* __getFunctions() lists "ResponseType Operation(RequestType $parameters)". */
$operations = [];
foreach ($site->__getFunctions() as $signature)
    if (preg_match('/^\S+ (\w+)\(/', $signature, $m))
        $operations[] = $m[1];
$operations = array_values(array_unique($operations));
ok('wsdl', "$wsdl: " . count($operations) . ' operations');

try {
    scenario($site, $admin, $operations, $tag, $run, $layers_dir, $canvas);
} catch (SoapFault $e) {
    fatal($current_step, "unexpected fault {$e->faultcode} " . (fault_code($e) ?? '') . ": {$e->faultstring}");
}
if ($failures) {
    echo LANG . ": FAILED ($failures)\n";
    exit(1);
}
echo LANG . ": passed\n";
