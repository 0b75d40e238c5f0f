<?php
/* router.php: the router script of PHP's built-in web server for the demo
 * community site:
 *
 *   php -S 127.0.0.1:8080 -t samples/community-site/public samples/community-site/router.php
 *
 * Files that exist in public/ (the stylesheet, the script) are served as they
 * are; every other path goes to the site (src/app.php). */

declare(strict_types=1);

ini_set('display_errors', '0');     // a member never sees PHP's messages; they go to the log
ini_set('log_errors', '1');

$path = parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/';
if ($path !== '/' && !str_contains($path, '..') && is_file(__DIR__ . '/public' . $path))
    return false;

require __DIR__ . '/src/app.php';
