/* kisekae.js: the site operations of the kisekae SOAP API for Node.js, over
 * the `soap` package (pinned in package-lock.json).
 *
 * A KisekaeClient holds a list of API URLs. It reads the WSDL from the first
 * URL that serves it (`<url>?wsdl`), then sends each call to the URL that
 * answered last, failing over to the next one as described at REPEATABLE.
 * Every method returns a promise of plain data: repeated elements are always
 * arrays (also for one element or none), numbers are numbers, booleans are
 * booleans, PNG bytes are Buffers. A failed call rejects with a KisekaeError
 * whose .code is the API's stable fault code (or one of the client's own).
 * Connections are kept alive (one agent per client); connect and total
 * timeouts apply to every attempt.
 */
'use strict';

const crypto = require('crypto');
const http = require('http');
const https = require('https');
const soap = require('soap');

/* Calls that end the same when the API gets them twice. After a failure once
 * the call was sent (a reset, a timeout, an HTTP 5xx without a SOAP fault, the
 * DatabaseUnavailable fault) they go to the next URL; the others
 * (CreateAvatar, DeleteAvatar, RegenerateAvatar, CreateAlbumPhoto,
 * DeleteAlbumPhoto) reject with OutcomeUnknown or the fault instead. A
 * refused connection (nothing was sent) moves every call to the next URL. */
const REPEATABLE = new Set([
  'ListCategories', 'ListItems', 'GetItem', 'ListScenes', 'GetAvatar', 'GetAvatars',
  'PreviewAvatar', 'ListMemberItems', 'ListAlbumPhotos', 'ChangeOutfit', 'GrantItem',
  'RevokeItem',
]);

/* Network errors that mean the connection was never made: nothing was sent. */
const NOT_CONNECTED = new Set([
  'ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL',
  'ECONNECT_TIMEOUT',
]);

/* The shape of the answers: per type, its fields that are repeated elements
 * ([Type] or ['scalar']), nested structs (Type) or base64 ('base64'). The
 * soap package already gives numbers and booleans. Field names are the
 * WSDL's. */
const TYPES = {
  Item: { layer: ['scalar'] },
  Avatar: { wornItemId: ['scalar'], wornColour: ['scalar'] },
  Scene: { slot: ['scalar'] },
  AlbumPhoto: { member: ['scalar'] },
  ListCategoriesResponse: { category: ['scalar'] },
  ListItemsResponse: { item: ['Item'] },
  GetItemResponse: { item: 'Item' },
  ListScenesResponse: { scene: ['Scene'] },
  CreateAvatarResponse: { avatar: 'Avatar' },
  GetAvatarResponse: { avatar: 'Avatar' },
  GetAvatarsResponse: { avatar: ['Avatar'], missingUserId: ['scalar'] },
  DeleteAvatarResponse: {},
  ChangeOutfitResponse: { avatar: 'Avatar' },
  PreviewAvatarResponse: { png: 'base64', wornItemId: ['scalar'], wornColour: ['scalar'] },
  RegenerateAvatarResponse: { avatar: 'Avatar' },
  GrantItemResponse: {},
  RevokeItemResponse: { avatar: 'Avatar' },
  ListMemberItemsResponse: { item: ['scalar'] },
  CreateAlbumPhotoResponse: { photo: 'AlbumPhoto' },
  ListAlbumPhotosResponse: { photo: ['AlbumPhoto'] },
  DeleteAlbumPhotoResponse: {},
};

/* The error of a failed call. code: the API's stable fault code (NotFound,
 * NotOwned, InvalidArgument, Conflict, Unauthorized, Forbidden, TooLarge,
 * ImageServerUnavailable, DatabaseUnavailable, Internal) or the client's own:
 * Unavailable (no API server answered), OutcomeUnknown (a call that is not
 * safe to repeat was sent and no answer came: read the state again),
 * Unauthorized (HTTP 401), Protocol (an answer the API does not send). */
class KisekaeError extends Error {
  constructor({ code, message, operation, url, faultcode, httpStatus, cause }) {
    super(`${operation ? `${operation}: ` : ''}${code}: ${message}${url ? ` (${url})` : ''}`,
      cause ? { cause } : undefined);
    this.name = 'KisekaeError';
    this.code = code;
    this.detail = message;               // the message without operation, code and URL
    this.operation = operation;
    this.url = url;
    this.faultcode = faultcode;          // SOAP faultcode of a fault (...:Client, ...:Server)
    this.httpStatus = httpStatus;
  }
}

/* An agent class (http or https) that keeps connections alive and gives up a
 * connection not made within connectTimeout ms (error code ECONNECT_TIMEOUT). */
function agentClass(Base) {
  return class extends Base {
    constructor(options, connectTimeout) {
      super(options);
      this.connectTimeout = connectTimeout;
    }

    createConnection(options, callback) {
      const socket = super.createConnection(options, callback);
      if (socket && socket.connecting) {
        const timer = setTimeout(() => {
          const error = new Error(`no connection within ${this.connectTimeout} ms`);
          error.code = 'ECONNECT_TIMEOUT';
          socket.destroy(error);
        }, this.connectTimeout);
        const clear = () => clearTimeout(timer);
        socket.once('connect', clear);
        socket.once('close', clear);
      }
      return socket;
    }
  };
}
const HttpAgent = agentClass(http.Agent);
const HttpsAgent = agentClass(https.Agent);

/* value as kind says (see TYPES). */
function shape(value, kind) {
  if (Array.isArray(kind)) {
    const list = value === undefined || value === null || value === '' ? []
      : Array.isArray(value) ? value : [value];
    return list.map((v) => shape(v, kind[0]));
  }
  if (value === undefined || value === null) return value;
  if (kind === 'scalar') return value;
  if (kind === 'base64') return Buffer.from(value, 'base64');
  const fields = TYPES[kind];
  const out = { ...value };
  for (const [name, fieldKind] of Object.entries(fields)) {
    const v = shape(out[name], fieldKind);
    if (v === undefined) delete out[name];
    else out[name] = v;
  }
  return out;
}

/* The SOAP Fault of an error of the soap package, or undefined. */
function soapFault(err) {
  const body = err && err.root && err.root.Envelope && err.root.Envelope.Body;
  return body && body.Fault;
}

/* What a failed attempt was: 'fault', 'refused' (nothing was sent), 'lost'
 * (sent, then no answer: reset, timeout, HTTP 5xx without a fault) or 'http'
 * (another HTTP status without a fault). */
function classify(err) {
  if (soapFault(err)) return 'fault';
  const status = err.response && err.response.status;
  if (status) return status >= 500 ? 'lost' : 'http';
  return NOT_CONNECTED.has(err.code) ? 'refused' : 'lost';
}

function describe(err) {
  const status = err.response && err.response.status;
  return status ? `HTTP ${status}` : `${err.code ? `${err.code}: ` : ''}${err.message}`;
}

/* {itemId: '#RRGGBB'} as ChangeOutfit's and PreviewAvatar's colour list;
 * throws InvalidArgument (nothing sent) for a colour of another form. */
function colourList(operation, colours) {
  return Object.entries(colours || {}).map(([itemId, colour]) => {
    if (!/^[0-9]+$/.test(itemId) || typeof colour !== 'string' ||
        !/^#[0-9A-Fa-f]{6}$/.test(colour)) {
      throw new KisekaeError({ code: 'InvalidArgument', operation,
        message: `the colour of item ${itemId} must be "#RRGGBB" (six hex digits), not ` +
          `${JSON.stringify(colour)}` });
    }
    return { itemId: Number(itemId), colour };
  });
}

/* The tints of an avatar or a preview as {itemId: '#RRGGBB'}. */
function colours(answer) {
  return Object.fromEntries((answer.wornColour || []).map((c) => [c.itemId, c.colour]));
}

/* Seconds a webhook signature's time may be away from now (5 minutes). */
const WEBHOOK_TOLERANCE = 300;

/* Whether header (the X-Kisekae-Signature value, "t=<unix time>,v1=<hex>")
 * signs body (the RAW request body: a Buffer or a string, before any JSON
 * parsing) under secret, the webhook's secret given to RegisterWebhook: the
 * HMAC-SHA256 of "<t>.<body>", compared in constant time, at a time t at most
 * tolerance seconds from now (seconds; default the clock), so a recorded
 * request cannot be replayed later. De-duplicate events by the body's id. */
function verifyWebhook(body, header, secret, { tolerance = WEBHOOK_TOLERANCE, now } = {}) {
  if (typeof header !== 'string' || !secret) return false;
  let time;
  const signatures = [];
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split(/=(.*)/s);
    if (key === 't' && /^[0-9]{1,12}$/.test(value)) time = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/.test(value)) signatures.push(Buffer.from(value));
  }
  if (time === undefined || !signatures.length) return false;
  const clock = now === undefined ? Math.floor(Date.now() / 1000) : now;
  if (Math.abs(clock - time) > tolerance) return false;
  const expected = Buffer.from(crypto.createHmac('sha256', secret).update(`${time}.`)
    .update(body).digest('hex'));
  let good = false;
  for (const signature of signatures)    // all compared: no early way out
    good = crypto.timingSafeEqual(expected, signature) || good;
  return good;
}

class KisekaeClient {
  /* urls: the API URLs, tried in this order; user, password: the site's API
   * credentials (HTTP Basic); connectTimeout: ms to make a connection
   * (default 10000); timeout: ms for a whole call to one URL (default 30000). */
  constructor({ urls, user, password, connectTimeout = 10000, timeout = 30000 }) {
    this.urls = (urls || []).filter((u) => u);
    if (!this.urls.length) throw new TypeError('KisekaeClient: urls (API URLs) is required');
    if (user === undefined || password === undefined)
      throw new TypeError('KisekaeClient: user and password are required');
    this.user = user;
    this.password = password;
    this.timeout = timeout;
    this.httpAgent = new HttpAgent({ keepAlive: true }, connectTimeout);
    this.httpsAgent = new HttpsAgent({ keepAlive: true }, connectTimeout);
    this.preferred = 0;                  // index of the URL that answered last
    this.clients = new Map();            // URL -> soap client
    this.wsdl = null;                    // promise of the WSDL, read once
  }

  /* The URL the next call goes to first: the one that answered last. */
  get url() {
    return this.urls[this.preferred];
  }

  /* Closes the kept-alive connections. */
  close() {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  // ---- the site operations ------------------------------------------------------

  /* The categories: [{id, name, zOrder, exclusive, required, defaultItemId?}].
   * With name: only the category of that name ([] if none). */
  async listCategories({ name } = {}) {
    return (await this.call('ListCategories', { name })).category;
  }

  /* Published items, a page at a time: {total, item: [...]}. */
  listItems({ categoryId, offset, limit } = {}) {
    return this.call('ListItems', { categoryId, offset, limit });
  }

  /* One item with its layers: {id, categoryId, name, status, price, layer: [...]}. */
  async getItem(itemId) {
    return (await this.call('GetItem', { itemId })).item;
  }

  /* Every scene: [{id, name, width, height, sha256, slot: [{x, y}]}]. */
  async listScenes() {
    return (await this.call('ListScenes', {})).scene;
  }

  /* A new member's avatar: {userId, version, imageServer, url, thumbUrl,
   * wornItemId, wornColour: [{itemId, colour}] (the tints: worn items worn with
   * a colour "#RRGGBB"), animUrl? (the APNG when it wears animated items)}. */
  async createAvatar(userId, { imageServer } = {}) {
    return (await this.call('CreateAvatar', { userId, imageServer })).avatar;
  }

  /* A member's avatar; with minVersion never an older one. */
  async getAvatar(userId, { minVersion } = {}) {
    return (await this.call('GetAvatar', { userId, minVersion })).avatar;
  }

  /* Up to 100 avatars: {avatar: [...] (in the order asked), missingUserId: [...]}. */
  getAvatars(userIds) {
    return this.call('GetAvatars', { userId: [...userIds] });
  }

  /* Deletes a member: {userId, albumPhotosDeleted}. */
  deleteAvatar(userId) {
    return this.call('DeleteAvatar', { userId });
  }

  /* Puts items on and takes items off, and colours worn tintable items
   * (colours: {itemId: '#RRGGBB'}, kept while the item stays on; a colour of
   * another form rejects with InvalidArgument before anything is sent): the
   * new avatar. */
  async changeOutfit(userId, { wear = [], remove = [], colours = {} } = {}) {
    const colour = colourList('ChangeOutfit', colours);
    return (await this.call('ChangeOutfit', { userId, wear, remove, colour })).avatar;
  }

  /* Try-on, nothing saved: {png: Buffer, wornItemId: [...], wornColour:
   * [{itemId, colour}]}. Options as changeOutfit. */
  async previewAvatar(userId, { wear = [], remove = [], colours = {} } = {}) {
    const colour = colourList('PreviewAvatar', colours);
    return this.call('PreviewAvatar', { userId, wear, remove, colour });
  }

  /* Composes the avatar again as a new version: the new avatar. */
  async regenerateAvatar(userId) {
    return (await this.call('RegenerateAvatar', { userId })).avatar;
  }

  /* Gives a member an item: {itemId, alreadyOwned}. */
  grantItem(userId, itemId) {
    return this.call('GrantItem', { userId, itemId });
  }

  /* Takes an item from a member: {itemId, wasOwned, wasWorn, avatar}. */
  revokeItem(userId, itemId) {
    return this.call('RevokeItem', { userId, itemId });
  }

  /* The items a member owns, newest grant first: {total, item: [{itemId,
   * categoryId, name, status, worn, grantedAt}]}. */
  listMemberItems(userId, { categoryId, offset, limit } = {}) {
    return this.call('ListMemberItems', { userId, categoryId, offset, limit });
  }

  /* Takes an album photo: {id, userId, sceneId, caption?, url, createdAt,
   * member: [{slot, userId, avatarVersion}]}. friends: up to 4 user ids. */
  async createAlbumPhoto(userId, sceneId, { friends = [], caption } = {}) {
    return (await this.call('CreateAlbumPhoto',
      { userId, sceneId, friendUserId: [...friends], caption })).photo;
  }

  /* A member's album photos, newest first: {total, photo: [...]}. */
  listAlbumPhotos(userId, { offset, limit } = {}) {
    return this.call('ListAlbumPhotos', { userId, offset, limit });
  }

  /* Deletes one of a member's album photos: {photoId}. */
  deleteAlbumPhoto(userId, photoId) {
    return this.call('DeleteAlbumPhoto', { userId, photoId });
  }

  // ---- transport and failover -----------------------------------------------------

  /* The options of every request: the agents and the total timeout. */
  requestOptions() {
    return { httpAgent: this.httpAgent, httpsAgent: this.httpsAgent, timeout: this.timeout };
  }

  /* The WSDL, from the first URL that serves it (the preferred one first). */
  loadWsdl() {
    if (!this.wsdl) {
      this.wsdl = (async () => {
        const failures = [];
        for (let i = 0; i < this.urls.length; i++) {
          const url = this.urls[(this.preferred + i) % this.urls.length];
          try {
            const client = await soap.createClientAsync(`${url}?wsdl`,
              { endpoint: url, wsdl_options: this.requestOptions() });
            client.setSecurity(new soap.BasicAuthSecurity(this.user, this.password));
            this.clients.set(url, client);
            return client.wsdl;
          } catch (err) {
            failures.push(`${url}?wsdl: ${describe(err)}`);
          }
        }
        this.wsdl = null;                // try again at the next call
        throw new KisekaeError({ code: 'Unavailable', operation: 'WSDL',
          message: `no API server served the WSDL: ${failures.join('; ')}` });
      })();
    }
    return this.wsdl;
  }

  /* The soap client whose calls go to url. */
  async client(url) {
    const wsdl = await this.loadWsdl();
    let client = this.clients.get(url);
    if (!client) {
      client = new soap.Client(wsdl, url, {});
      client.setSecurity(new soap.BasicAuthSecurity(this.user, this.password));
      this.clients.set(url, client);
    }
    return client;
  }

  /* Runs operation against the URLs from the one that answered last on and
   * resolves to its answer, shaped as TYPES says; see REPEATABLE for when it
   * moves to the next URL. A fault other than DatabaseUnavailable is the
   * API's answer to the call: it rejects at once. */
  async call(operation, args) {
    const count = this.urls.length;
    const failures = [];
    let lastStatus;
    for (let i = 0; i < count; i++) {
      const index = (this.preferred + i) % count;
      const url = this.urls[index];
      const client = await this.client(url);
      let result;
      try {
        [result] = await client[`${operation}Async`](args, this.requestOptions());
      } catch (err) {
        const kind = classify(err);
        const status = err.response && err.response.status;
        if (kind === 'fault') {
          const fault = soapFault(err);
          const detail = (fault.detail && fault.detail.KisekaeFault) || {};
          if (detail.code === 'DatabaseUnavailable' && REPEATABLE.has(operation)) {
            failures.push(`${url}: DatabaseUnavailable`);
            continue;
          }
          this.preferred = index;
          throw new KisekaeError({ code: detail.code || 'Protocol',
            message: detail.message || fault.faultstring || '', operation, url,
            faultcode: fault.faultcode, httpStatus: status, cause: err });
        }
        if (kind === 'http') {
          this.preferred = index;
          throw new KisekaeError({ code: status === 401 ? 'Unauthorized' : 'Protocol',
            message: describe(err), operation, url, httpStatus: status, cause: err });
        }
        failures.push(`${url}: ${describe(err)}`);
        lastStatus = status;
        if (kind === 'lost' && !REPEATABLE.has(operation)) {
          throw new KisekaeError({ code: 'OutcomeUnknown', operation, url, httpStatus: status,
            message: `sent, but no answer came (${describe(err)}); read the state again`,
            cause: err });
        }
        continue;
      }
      this.preferred = index;
      // an empty response element comes as null
      return shape(result || {}, `${operation}Response`);
    }
    throw new KisekaeError({ code: 'Unavailable', operation, url: this.url, httpStatus: lastStatus,
      message: `no API server answered: ${failures.join('; ')}` });
  }
}

module.exports = {
  KisekaeClient, KisekaeError, REPEATABLE, colours, verifyWebhook, WEBHOOK_TOLERANCE,
};
