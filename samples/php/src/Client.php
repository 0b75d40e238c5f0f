<?php
/* Client: the kisekae site API (the operations a community website calls)
 * over PHP's ext/soap SoapClient, with PHP types: lists are always arrays
 * (SOAP_SINGLE_ELEMENT_ARRAYS; an absent list is []), PNG bytes are strings,
 * answers are the value classes of this folder, every error is a
 * KisekaeException whose getFaultCode() is the API's stable code.
 *
 * It takes a LIST of API URLs and fails over:
 * - a refused connection or a connect timeout (nothing was sent) moves to the
 *   next URL for every call;
 * - a reset or a timeout after sending, an HTTP error without a SOAP fault, or
 *   a DatabaseUnavailable fault moves on only for the calls that are safe to
 *   send twice (self::RESENDABLE: the reads, PreviewAvatar, ChangeOutfit,
 *   GrantItem, RevokeItem); the others (CreateAvatar, DeleteAvatar,
 *   RegenerateAvatar, CreateAlbumPhoto, DeleteAlbumPhoto) throw
 *   OUTCOME_UNKNOWN (or the fault), and the site reads the state again.
 * Each URL is tried at most once per call, starting with the one that answered
 * last (the client sticks to it).
 *
 * The WSDL is loaded from the first URL that answers "URL?wsdl" (same
 * failover) unless the option 'wsdl' names a copy; calls always go to the URL
 * from the list (SoapClient::__setLocation), never to the WSDL's address.
 * Connections are kept open between calls (keep_alive); 'connect_timeout'
 * bounds a connect, 'timeout' the wait for an answer (the stream's
 * default_socket_timeout while the client opens its connection).
 *
 *   require 'samples/php/autoload.php';        // or Composer's autoloader
 *   $api = new Kisekae\Client(['http://api1:17010/', 'http://api2:17010/'],
 *                             'site-user', 'secret');
 *   $avatar = $api->changeOutfit('bob', wear: [12]);
 *   echo $avatar->url;
 */

declare(strict_types=1);

namespace Kisekae;

final class Client
{
    /** Operations that end the same when sent twice: moved to the next URL
     * even when the first may have received them. */
    public const RESENDABLE = [
        'ListCategories', 'ListItems', 'GetItem', 'ListScenes', 'GetAvatar', 'GetAvatars',
        'ListMemberItems', 'ListAlbumPhotos', 'PreviewAvatar', 'ChangeOutfit', 'GrantItem',
        'RevokeItem',
    ];
    /** The largest page the API gives (limit 1..100). */
    public const MAX_PAGE = 100;

    /** @var list<string> */
    private array $urls;
    private int $current = 0;           // index of the URL that answered last
    private ?\SoapClient $soap = null;
    private float $connectTimeout;
    private float $timeout;
    private ?string $wsdl;
    private int $wsdlCache;
    /** @var list<string> why the WSDL could not be loaded, per URL */
    private array $wsdlErrors = [];

    /**
     * @param list<string>|string $urls API URLs, tried in this order (a string
     *        may hold several separated by spaces)
     * @param array{connect_timeout?:float,timeout?:float,wsdl?:string,wsdl_cache?:int} $options
     *        connect_timeout: seconds for a connect (default 3); timeout: seconds
     *        to wait for an answer (default 30); wsdl: a WSDL file or URL to use
     *        instead of URL?wsdl; wsdl_cache: a WSDL_CACHE_* constant (default
     *        WSDL_CACHE_MEMORY: once per process, so a new API operation is
     *        seen after a restart)
     */
    public function __construct(
        array|string $urls,
        private readonly string $user,
        private readonly string $password,
        array $options = [],
    ) {
        if (is_string($urls))
            $urls = preg_split('/\s+/', trim($urls), -1, PREG_SPLIT_NO_EMPTY);
        if (!$urls)
            throw new \InvalidArgumentException('Kisekae\Client needs at least one API URL');
        foreach ($urls as $url)
            if (!preg_match('#^https?://[^\s/]+#', $url))
                throw new \InvalidArgumentException("not an http(s) URL: $url");
        $this->urls = array_values($urls);
        $this->connectTimeout = (float) ($options['connect_timeout'] ?? 3);
        $this->timeout = (float) ($options['timeout'] ?? 30);
        $this->wsdl = $options['wsdl'] ?? null;
        $this->wsdlCache = (int) ($options['wsdl_cache'] ?? WSDL_CACHE_MEMORY);
    }

    /** A client from the environment: KISEKAE_API_URLS (space-separated; else
     * KISEKAE_API_URL), KISEKAE_SITE_USER, KISEKAE_SITE_PASSWORD. */
    public static function fromEnvironment(array $options = []): self
    {
        $urls = getenv('KISEKAE_API_URLS') ?: getenv('KISEKAE_API_URL');
        $user = getenv('KISEKAE_SITE_USER');
        $password = getenv('KISEKAE_SITE_PASSWORD');
        if (!$urls || $user === false || $password === false)
            throw new \InvalidArgumentException(
                'set KISEKAE_API_URLS, KISEKAE_SITE_USER and KISEKAE_SITE_PASSWORD');
        return new self($urls, $user, $password, $options);
    }

    /** The URL that answered last (the next call starts there). */
    public function currentUrl(): string
    {
        return $this->urls[$this->current];
    }

    /* ---- the catalog ---------------------------------------------------- */

    /** @return list<Category> every category, or with $name only that one */
    public function listCategories(?string $name = null): array
    {
        $answer = $this->call('ListCategories', $name === null ? [] : ['name' => $name]);
        return array_map([Category::class, 'fromSoap'], $answer->category ?? []);
    }

    /** Published items, optionally of one category, a page at a time.
     * @return Page<Item> */
    public function listItems(?int $categoryId = null, int $offset = 0, int $limit = 50): Page
    {
        $params = ['offset' => $offset, 'limit' => $limit];
        if ($categoryId !== null)
            $params = ['categoryId' => $categoryId] + $params;
        $answer = $this->call('ListItems', $params);
        return new Page(array_map([Item::class, 'fromSoap'], $answer->item ?? []),
                        (int) $answer->total, $offset);
    }

    /** Every published item (of one category), page after page.
     * @return list<Item> */
    public function allItems(?int $categoryId = null): array
    {
        return $this->allPages(
            fn(int $offset) => $this->listItems($categoryId, $offset, self::MAX_PAGE));
    }

    /** One item with its layers, whatever its status (NotFound if none). */
    public function getItem(int $itemId): Item
    {
        return Item::fromSoap($this->call('GetItem', ['itemId' => $itemId])->item);
    }

    /** @return list<Scene> every album background */
    public function listScenes(): array
    {
        return array_map([Scene::class, 'fromSoap'], $this->call('ListScenes', [])->scene ?? []);
    }

    /* ---- avatars -------------------------------------------------------- */

    /** A new member wearing each required category's default item (Conflict
     * if the id exists). $imageServer names the image server to hold it. */
    public function createAvatar(string $userId, ?string $imageServer = null): Avatar
    {
        $params = ['userId' => $userId];
        if ($imageServer !== null)
            $params['imageServer'] = $imageServer;
        return Avatar::fromSoap($this->call('CreateAvatar', $params)->avatar);
    }

    /** A member's avatar (NotFound if none). With $minVersion (the version a
     * change returned), never an older answer. */
    public function getAvatar(string $userId, ?int $minVersion = null): Avatar
    {
        $params = ['userId' => $userId];
        if ($minVersion !== null)
            $params['minVersion'] = $minVersion;
        return Avatar::fromSoap($this->call('GetAvatar', $params)->avatar);
    }

    /** Up to 100 avatars in one call, keyed by user id in the order asked;
     * ids that name no member are left out.
     * @param list<string> $userIds
     * @return array<string, Avatar> */
    public function getAvatars(array $userIds): array
    {
        if (!$userIds)
            return [];
        $avatars = [];
        $answer = $this->call('GetAvatars', ['userId' => array_values($userIds)]);
        foreach ($answer->avatar ?? [] as $a) {
            $avatar = Avatar::fromSoap($a);
            $avatars[$avatar->userId] = $avatar;
        }
        return $avatars;
    }

    /** Deletes a member, its inventory, album and images.
     * @return int how many album photos went with it */
    public function deleteAvatar(string $userId): int
    {
        return (int) $this->call('DeleteAvatar', ['userId' => $userId])->albumPhotosDeleted;
    }

    /** Puts $wear on and takes $remove off (owned items; NotOwned otherwise)
     * and colours worn tintable items ($colours: item id => "#RRGGBB", kept
     * while the item stays on; InvalidArgument for an item without a
     * tintable layer), saves and returns the new avatar version (with its
     * colours and animUrl).
     * @param list<int> $wear @param list<int> $remove @param array<int, string> $colours */
    public function changeOutfit(string $userId, array $wear = [], array $remove = [],
                                 array $colours = []): Avatar
    {
        $answer = $this->call('ChangeOutfit', ['userId' => $userId, 'wear' => array_values($wear),
                                               'remove' => array_values($remove),
                                               'colour' => self::colourList('ChangeOutfit',
                                                                            $colours)]);
        return Avatar::fromSoap($answer->avatar);
    }

    /** Try-on: the outfit with the change (and $colours, as changeOutfit
     * takes them) as PNG bytes; nothing is saved and the items need not be
     * owned.
     * @param list<int> $wear @param list<int> $remove @param array<int, string> $colours */
    public function previewAvatar(string $userId, array $wear = [], array $remove = [],
                                  array $colours = []): Preview
    {
        $answer = $this->call('PreviewAvatar', ['userId' => $userId, 'wear' => array_values($wear),
                                                'remove' => array_values($remove),
                                                'colour' => self::colourList('PreviewAvatar',
                                                                             $colours)]);
        return new Preview((string) $answer->png, array_map('intval', $answer->wornItemId ?? []),
                           Avatar::colours($answer));
    }

    /** Composes the avatar again as a new version. */
    public function regenerateAvatar(string $userId): Avatar
    {
        return Avatar::fromSoap($this->call('RegenerateAvatar', ['userId' => $userId])->avatar);
    }

    /* ---- inventory ------------------------------------------------------ */

    /** Gives a member an item.
     * @return bool whether the member owned it already (not an error) */
    public function grantItem(string $userId, int $itemId): bool
    {
        $answer = $this->call('GrantItem', ['userId' => $userId, 'itemId' => $itemId]);
        return (bool) $answer->alreadyOwned;
    }

    /** Takes an item from a member; a worn one comes off (a new avatar version). */
    public function revokeItem(string $userId, int $itemId): Revocation
    {
        $answer = $this->call('RevokeItem', ['userId' => $userId, 'itemId' => $itemId]);
        return new Revocation((int) $answer->itemId, (bool) $answer->wasOwned,
                              (bool) $answer->wasWorn, Avatar::fromSoap($answer->avatar));
    }

    /** What a member owns (of one category), newest grant first, a page at a time.
     * @return Page<MemberItem> */
    public function listMemberItems(string $userId, ?int $categoryId = null, int $offset = 0,
                                    int $limit = 50): Page
    {
        $params = ['userId' => $userId];
        if ($categoryId !== null)
            $params['categoryId'] = $categoryId;
        $params += ['offset' => $offset, 'limit' => $limit];
        $answer = $this->call('ListMemberItems', $params);
        return new Page(array_map([MemberItem::class, 'fromSoap'], $answer->item ?? []),
                        (int) $answer->total, $offset);
    }

    /** Everything a member owns, page after page.
     * @return list<MemberItem> */
    public function allMemberItems(string $userId, ?int $categoryId = null): array
    {
        return $this->allPages(fn(int $offset) =>
            $this->listMemberItems($userId, $categoryId, $offset, self::MAX_PAGE));
    }

    /* ---- album ---------------------------------------------------------- */

    /** A JPEG of a scene with the member in slot 0 and up to 4 friends.
     * @param list<string> $friendUserIds */
    public function createAlbumPhoto(string $userId, int $sceneId, array $friendUserIds = [],
                                     ?string $caption = null): AlbumPhoto
    {
        $params = ['userId' => $userId, 'sceneId' => $sceneId,
                   'friendUserId' => array_values($friendUserIds)];
        if ($caption !== null)
            $params['caption'] = $caption;
        return AlbumPhoto::fromSoap($this->call('CreateAlbumPhoto', $params)->photo);
    }

    /** A member's album, newest first, a page at a time.
     * @return Page<AlbumPhoto> */
    public function listAlbumPhotos(string $userId, int $offset = 0, int $limit = 50): Page
    {
        $answer = $this->call('ListAlbumPhotos', ['userId' => $userId, 'offset' => $offset,
                                                  'limit' => $limit]);
        return new Page(array_map([AlbumPhoto::class, 'fromSoap'], $answer->photo ?? []),
                        (int) $answer->total, $offset);
    }

    /** Deletes one of a member's album photos and its image (NotFound if the
     * member has no such photo). */
    public function deleteAlbumPhoto(string $userId, int $photoId): void
    {
        $this->call('DeleteAlbumPhoto', ['userId' => $userId, 'photoId' => $photoId]);
    }

    /* ---- the transport -------------------------------------------------- */

    /** item id => "#RRGGBB" as the operations' colour list; a colour of
     * another form is refused here (InvalidArgument, nothing sent), as the
     * API would.
     * @param array<int, string> $colours @return list<array{itemId:int, colour:string}> */
    private static function colourList(string $operation, array $colours): array
    {
        $list = [];
        foreach ($colours as $itemId => $colour) {
            if (!is_int($itemId) || !is_string($colour) ||
                !preg_match('/^#[0-9A-Fa-f]{6}$/D', $colour))
                throw new KisekaeException('InvalidArgument', sprintf(
                    'the colour of item %s must be "#RRGGBB" (six hex digits), not %s',
                    $itemId, json_encode($colour)), $operation);
            $list[] = ['itemId' => $itemId, 'colour' => $colour];
        }
        return $list;
    }

    /** @param callable(int): Page $fetch @return list<mixed> */
    private function allPages(callable $fetch): array
    {
        $all = [];
        for ($offset = 0; ; $offset += self::MAX_PAGE) {
            $page = $fetch($offset);
            array_push($all, ...$page->entries);
            if (!$page->entries || !$page->hasMore())
                return $all;
        }
    }

    /** Calls $operation with $params, failing over as the header says, and
     * returns ext/soap's answer object (the response element). */
    private function call(string $operation, array $params): object
    {
        $resendable = in_array($operation, self::RESENDABLE, true);
        $count = count($this->urls);
        $start = $this->current;
        $why = [];
        for ($i = 0; $i < $count; $i++) {
            $index = ($start + $i) % $count;
            $url = $this->urls[$index];
            $soap = $this->soapClient($index);
            if ($soap === null)                 // no WSDL from any URL
                break;
            $soap->__setLocation($url);
            $saved = ini_set('default_socket_timeout', (string) $this->timeout);
            try {
                $answer = $soap->__soapCall($operation, [$params]);
                $this->current = $index;
                return is_object($answer) ? $answer : new \stdClass();
            } catch (\SoapFault $fault) {
                $code = $fault->detail->KisekaeFault->code ?? null;
                $answered = $code === null ? !self::isTransportError($fault)
                                           : $code !== 'DatabaseUnavailable';
                if ($answered)                  // a fault to pass on, not a reason to move on
                    throw $this->faultException($operation, $fault);
                $sent = $code !== null || !self::notSent($fault);
                if ($sent && !$resendable) {
                    if ($code !== null)
                        throw $this->faultException($operation, $fault);
                    throw new KisekaeException(KisekaeException::OUTCOME_UNKNOWN,
                        "$operation was sent to $url but got no answer ({$fault->getMessage()}); " .
                        'it may have happened: read the state again', $operation, null, $fault);
                }
                if ($i === $count - 1 && $code !== null)
                    throw $this->faultException($operation, $fault);
                $why[] = "$url: " . ($code ?? $fault->getMessage());
            } finally {
                if ($saved !== false)
                    ini_set('default_socket_timeout', $saved);
            }
        }
        throw new KisekaeException(KisekaeException::UNREACHABLE,
            "no API server answered $operation (" . implode('; ', $why ?: $this->wsdlErrors) . ')',
            $operation);
    }

    /** The SoapClient, built on first use from the WSDL of the first URL
     * (from $index on) that serves it; null when none does. */
    private function soapClient(int $index): ?\SoapClient
    {
        if ($this->soap !== null)
            return $this->soap;
        $count = count($this->urls);
        $this->wsdlErrors = [];
        for ($i = 0; $i < ($this->wsdl === null ? $count : 1); $i++) {
            $url = $this->urls[($index + $i) % $count];
            $wsdl = $this->wsdl ?? $url . (str_contains($url, '?') ? '&' : '?') . 'wsdl';
            $saved = ini_set('default_socket_timeout', (string) $this->connectTimeout);
            try {
                $this->soap = new \SoapClient($wsdl, [
                    'login' => $this->user,
                    'password' => $this->password,
                    'authentication' => SOAP_AUTHENTICATION_BASIC,
                    'features' => SOAP_SINGLE_ELEMENT_ARRAYS,
                    'cache_wsdl' => $this->wsdlCache,
                    'connection_timeout' => max(1, (int) ceil($this->connectTimeout)),
                    'keep_alive' => true,
                    'exceptions' => true,
                    'user_agent' => 'kisekae-php',
                ]);
                return $this->soap;
            } catch (\SoapFault $fault) {
                $this->wsdlErrors[] = "$wsdl: " . trim($fault->getMessage());
            } finally {
                if ($saved !== false)
                    ini_set('default_socket_timeout', $saved);
            }
        }
        return null;
    }

    /** Whether no SOAP answer came back: an HTTP or network error (ext/soap's
     * "HTTP" faults), or an answer that is no SOAP document. */
    private static function isTransportError(\SoapFault $fault): bool
    {
        return $fault->faultcode === 'HTTP' ||
            ($fault->faultcode === 'Client' &&
             str_starts_with($fault->getMessage(), 'looks like we got no XML document'));
    }

    /** Whether ext/soap gave up before sending anything (connection refused
     * or connect timeout). */
    private static function notSent(\SoapFault $fault): bool
    {
        return $fault->faultcode === 'HTTP' && $fault->getMessage() === 'Could not connect to host';
    }

    private function faultException(string $operation, \SoapFault $fault): KisekaeException
    {
        $detail = $fault->detail->KisekaeFault ?? null;
        $soapCode = (string) $fault->faultcode;
        if ($detail !== null)
            return new KisekaeException((string) $detail->code,
                                        (string) ($detail->message ?? $fault->getMessage()),
                                        $operation, $soapCode, $fault);
        /* A fault without our detail: the request could not be encoded
         * (ext/soap's own "Client" faults) or a server fault of another kind. */
        $code = str_ends_with($soapCode, 'Client') ? 'InvalidArgument' : 'Internal';
        return new KisekaeException($code, $fault->getMessage(), $operation, $soapCode, $fault);
    }
}
