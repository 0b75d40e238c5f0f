<?php
/* Webhook: checks the signature of a kisekae webhook request, as the page
 * that receives it must before it trusts the body.
 *
 * The API's webhook sender POSTs a JSON body with the header
 *   X-Kisekae-Signature: t=<unix time>,v1=<hex HMAC-SHA256>
 * the HMAC under the webhook's secret (given to RegisterWebhook) of
 * "<unix time>.<body>". verify() recomputes it over the RAW body (the bytes
 * received, before any JSON decoding), compares in constant time
 * (hash_equals) and refuses a time further than $tolerance seconds from now,
 * so a request recorded by someone else cannot be replayed later. Events
 * arrive at least once: de-duplicate by the body's "id" (also the header
 * X-Kisekae-Event-Id).
 *
 *   $body = file_get_contents('php://input');
 *   if (!Kisekae\Webhook::verify($body, $_SERVER['HTTP_X_KISEKAE_SIGNATURE'] ?? '', $secret)) {
 *       http_response_code(400);
 *       exit;
 *   }
 *   $event = json_decode($body, true);
 */

declare(strict_types=1);

namespace Kisekae;

final class Webhook
{
    /** Seconds a signature's time may be away from now (5 minutes). */
    public const TOLERANCE = 300;

    /** Whether $signatureHeader (the X-Kisekae-Signature value) signs $body
     * under $secret at a time at most $tolerance seconds from $now (default:
     * the clock). Any header not of the form "t=...,v1=..." is refused. */
    public static function verify(string $body, string $signatureHeader, string $secret,
                                  int $tolerance = self::TOLERANCE, ?int $now = null): bool
    {
        $time = null;
        $signatures = [];
        foreach (explode(',', $signatureHeader) as $part) {
            [$key, $value] = array_pad(explode('=', trim($part), 2), 2, '');
            if ($key === 't' && preg_match('/^[0-9]{1,12}$/D', $value))
                $time = (int) $value;
            elseif ($key === 'v1' && preg_match('/^[0-9a-f]{64}$/D', $value))
                $signatures[] = $value;
        }
        if ($time === null || !$signatures || $secret === '')
            return false;
        if (abs(($now ?? time()) - $time) > $tolerance)
            return false;
        $expected = hash_hmac('sha256', "$time.$body", $secret);
        $good = false;
        foreach ($signatures as $signature)       // all compared: no early way out
            $good = hash_equals($expected, $signature) || $good;
        return $good;
    }
}
