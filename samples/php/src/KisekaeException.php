<?php
/* KisekaeException: every error of a Kisekae\Client call.
 *
 * getFaultCode() is what a site branches on:
 * - for a SOAP fault of the API, the stable code of its
 *   <detail><KisekaeFault><code>: NotFound, InvalidArgument, NotOwned,
 *   Conflict, Unauthorized, Forbidden, TooLarge, ImageServerUnavailable,
 *   DatabaseUnavailable, Internal (isFault() is true);
 * - when no API server could be reached (every URL refused, timed out on
 *   connect, or failed a call that was safe to send again): UNREACHABLE;
 * - when a call that is not safe to send twice (CreateAvatar, DeleteAvatar,
 *   RegenerateAvatar, CreateAlbumPhoto, DeleteAlbumPhoto) was sent but got no
 *   answer: OUTCOME_UNKNOWN. It may have happened: read the state again
 *   before repeating it.
 * getMessage() is the server's message (for people, not for code). */

declare(strict_types=1);

namespace Kisekae;

class KisekaeException extends \RuntimeException
{
    public const UNREACHABLE = 'Unreachable';
    public const OUTCOME_UNKNOWN = 'OutcomeUnknown';

    public function __construct(
        private readonly string $faultCode,
        string $message,
        private readonly string $operation,
        private readonly ?string $soapFaultCode = null,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    /** The stable code: one of the API's codes, UNREACHABLE or OUTCOME_UNKNOWN. */
    public function getFaultCode(): string
    {
        return $this->faultCode;
    }

    /** The operation that failed, e.g. "ChangeOutfit". */
    public function getOperation(): string
    {
        return $this->operation;
    }

    /** SOAP-ENV:Client (the caller must change something) or SOAP-ENV:Server;
     * null when no fault came back. */
    public function getSoapFaultCode(): ?string
    {
        return $this->soapFaultCode;
    }

    /** Whether the API answered with a fault (else the call never got an answer). */
    public function isFault(): bool
    {
        return $this->soapFaultCode !== null;
    }
}
