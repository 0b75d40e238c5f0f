<?php
/* bootstrap.php: what every page of the demo community site shares: the
 * configuration from the environment, the API client (samples/php), the
 * session with its CSRF token and the logged-in member, the one escaping
 * function h(), friendly messages for the API's fault codes, and render(),
 * which sends a page with its Content-Security-Policy.
 *
 * Environment:
 *   KISEKAE_API_URLS         API URLs, space-separated (else KISEKAE_API_URL)
 *   KISEKAE_SITE_USER, KISEKAE_SITE_PASSWORD   the site's API credentials
 *   KISEKAE_API_PUBLIC_URL   where browsers reach the API's /avatar/{id}.png
 *                            redirects (default: the first API URL)
 *   KISEKAE_SITE_MEMBERS     the community's members, space-separated
 *                            (default "demo aiko bruno chiara dmitri") */

declare(strict_types=1);

require __DIR__ . '/../../php/autoload.php';

use Kisekae\Client;
use Kisekae\KisekaeException;

const SITE_NAME = 'Kisekae Town';
const SESSION_COOKIE = 'kisekae_site';

/** The one escaping function: every value that goes into a page goes through it. */
function h(string|int|float|null $value): string
{
    return htmlspecialchars((string) $value, ENT_QUOTES | ENT_SUBSTITUTE | ENT_HTML5, 'UTF-8');
}

function env_value(string $name, ?string $default = null): ?string
{
    $value = getenv($name);
    return $value === false || trim($value) === '' ? $default : trim($value);
}

function api(): Client
{
    static $client = null;
    return $client ??= Client::fromEnvironment(['connect_timeout' => 2, 'timeout' => 20]);
}

/** Where browsers reach the API's /avatar redirects, with a trailing slash. */
function api_public_url(): string
{
    $url = env_value('KISEKAE_API_PUBLIC_URL') ??
        preg_split('/\s+/', env_value('KISEKAE_API_URLS') ?? env_value('KISEKAE_API_URL', ''))[0];
    return rtrim($url, '/') . '/';
}

/** The bare <img> URLs of a member's current avatar and thumbnail (a 302 to
 * the current version on its image server). */
function avatar_link(string $userId, bool $thumb = false): string
{
    return allow_image(api_public_url() . 'avatar/' . rawurlencode($userId) .
                       ($thumb ? '/thumb.png' : '.png'));
}

/** @return list<string> the community's members, demo first */
function members(): array
{
    $ids = preg_split('/\s+/', env_value('KISEKAE_SITE_MEMBERS', 'demo aiko bruno chiara dmitri'));
    $ids = array_filter($ids, fn($id) => preg_match('/^[A-Za-z0-9._-]{1,64}$/', $id) === 1);
    $ids = array_values(array_unique($ids));
    return $ids ?: ['demo'];
}

function display_name(string $userId): string
{
    return ucfirst($userId);
}

/* ---- the session: CSRF token, logged-in member, messages for the next page */

function start_session(): void
{
    session_name(SESSION_COOKIE);
    session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax', 'path' => '/']);
    ini_set('session.use_strict_mode', '1');
    session_start();
    if (empty($_SESSION['csrf']))
        $_SESSION['csrf'] = bin2hex(random_bytes(32));
}

/** Reads the session of the request's cookie, if there is one, without
 * sending a cookie: pictures loading in parallel with a POST that renews the
 * session id (the member switcher) must not hand the browser a new, empty
 * session. */
function read_session(): void
{
    $id = $_COOKIE[SESSION_COOKIE] ?? '';
    if (!is_string($id) || !preg_match('/^[A-Za-z0-9,-]{22,256}$/', $id))
        return;
    ini_set('session.use_cookies', '0');
    session_name(SESSION_COOKIE);
    session_id($id);
    session_start(['read_and_close' => true]);
}

function csrf_token(): string
{
    return $_SESSION['csrf'];
}

/** The hidden field every form carries. */
function csrf_field(): string
{
    return '<input type="hidden" name="csrf" value="' . h(csrf_token()) . '">';
}

function csrf_ok(): bool
{
    return is_string($_POST['csrf'] ?? null) && hash_equals(csrf_token(), $_POST['csrf']);
}

function current_member(): string
{
    $member = $_SESSION['member'] ?? null;
    return in_array($member, members(), true) ? $member : members()[0];
}

function flash(string $kind, string $text): void
{
    $_SESSION['flash'][] = ['kind' => $kind, 'text' => $text];
}

/** @return list<array{kind:string,text:string}> the messages, once */
function take_flashes(): array
{
    $messages = $_SESSION['flash'] ?? [];
    unset($_SESSION['flash']);
    return $messages;
}

function redirect(string $path): never
{
    header('Location: ' . $path, true, 303);
    exit;
}

/** What a member reads when a call fails: never a stack trace, always what to do. */
function friendly(KisekaeException $e): string
{
    return match ($e->getFaultCode()) {
        'NotOwned' => 'You do not own that item yet. Get it in the shop first.',
        'NotFound' => 'That is not there any more. The page shows what there is now.',
        'Conflict' => 'That cannot be done right now: ' . $e->getMessage() . '.',
        'InvalidArgument', 'TooLarge' => 'That did not work: ' . $e->getMessage() . '.',
        'ImageServerUnavailable' =>
            'The image service is busy, so nothing was changed. Please try again in a moment.',
        'DatabaseUnavailable', KisekaeException::UNREACHABLE =>
            'The avatar service is not answering right now. Please try again in a moment.',
        KisekaeException::OUTCOME_UNKNOWN =>
            'We could not tell whether that worked. The page shows what is saved; ' .
            'please check before trying again.',
        default => 'Something went wrong on our side. Please try again later.',
    };
}

/* ---- pages ---------------------------------------------------------------- */

/** Origins images come from (the API's redirects, the image servers): the
 * Content-Security-Policy's img-src lists exactly these. */
function allow_image(string $url): string
{
    global $image_origins;
    if (preg_match('#^(https?://[^/?\#]+)#', $url, $m))
        $image_origins[$m[1]] = true;
    return $url;
}

/** The image server base of an avatar URL (http://host:port), for the
 * public static paths next to it (scenes/); null if the URL has another form. */
function image_base(string $avatarUrl): ?string
{
    $at = strpos($avatarUrl, '/avatars/');
    return $at === false ? null : substr($avatarUrl, 0, $at);
}

/** The output of templates/$name.php with $vars as its variables. */
function template(string $name, array $vars): string
{
    $__file = __DIR__ . "/../templates/$name.php";
    unset($name);
    extract($vars, EXTR_SKIP);
    ob_start();
    require $__file;
    return ob_get_clean();
}

/** Renders templates/$name.php inside the layout and sends it with the
 * security headers (a strict Content-Security-Policy: scripts and styles
 * only from this site, images from here, data: URLs and the origins that
 * allow_image() saw). */
function render(string $name, array $vars, int $status = 200): never
{
    global $image_origins;
    $image_origins ??= [];
    allow_image(api_public_url());
    $vars += ['title' => '', 'errors' => [], 'nav' => ''];
    $vars['body'] = template($name, $vars);
    $vars['flashes'] = take_flashes();
    $page = template('layout', $vars);

    http_response_code($status);
    header('Content-Type: text/html; charset=utf-8');
    header("Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; " .
           "img-src 'self' data: " . implode(' ', array_keys($image_origins)) . '; ' .
           "form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
    header('X-Content-Type-Options: nosniff');
    header('Referrer-Policy: same-origin');
    header('Cache-Control: no-store');
    echo $page;
    exit;
}
