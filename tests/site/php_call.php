<?php
/* php_call.php: one call of samples/php's Kisekae\Client, for
 * test_php_failover.py. Prints one JSON object: {"ok": userId} or
 * {"code": faultCode, "message": ...}, with "url" (the URL the client
 * sticks to afterwards) and "seconds" (how long the call took).
 *
 *   php php_call.php "URL1 URL2" get|create USER_ID [TIMEOUT_S]
 * (the site's credentials from KISEKAE_SITE_USER / KISEKAE_SITE_PASSWORD) */

declare(strict_types=1);

require __DIR__ . '/../../samples/php/autoload.php';

if ($argc < 4 || !in_array($argv[2], ['get', 'create'], true)) {
    fwrite(STDERR, "usage: php php_call.php \"URL...\" get|create USER_ID [TIMEOUT_S]\n");
    exit(2);
}
$api = new Kisekae\Client($argv[1], (string) getenv('KISEKAE_SITE_USER'),
                          (string) getenv('KISEKAE_SITE_PASSWORD'),
                          ['connect_timeout' => 2, 'timeout' => (float) ($argv[4] ?? 10)]);
$started = microtime(true);
try {
    $avatar = $argv[2] === 'get' ? $api->getAvatar($argv[3]) : $api->createAvatar($argv[3]);
    $result = ['ok' => $avatar->userId];
} catch (Kisekae\KisekaeException $e) {
    $result = ['code' => $e->getFaultCode(), 'message' => $e->getMessage()];
}
$result += ['url' => $api->currentUrl(), 'seconds' => microtime(true) - $started];
echo json_encode($result), "\n";
