#!/usr/bin/env node
/* walkthrough.js: every site operation of the kisekae API through
 * KisekaeClient (kisekae.js beside this file), against a live stack, checking
 * each answer.
 *
 *   cd samples/node && npm ci
 *   KISEKAE_API_URLS="http://api1/ http://api2/" KISEKAE_SITE_USER=site \
 *   KISEKAE_SITE_PASSWORD=... [KISEKAE_SAMPLE_RUN=tag] node walkthrough.js
 *
 * It picks two published items (not a default item, not of a required
 * category) and a scene from the stack's catalog, creates a member and a
 * friend (walk-js-<run>-a and -b), dresses, previews, photographs and finally
 * deletes them. It also colours a tintable item (the sample catalog's hair)
 * and checks a signed webhook payload with verifyWebhook (good, tampered,
 * stale). One line per operation; the last line is
 * "walkthrough node: passed (N operations)" and the exit status 0, or
 * "FAIL <operation>: <why>" and exit status 1.
 */
'use strict';

const http = require('http');
const https = require('https');
const {
  KisekaeClient, KisekaeError, colours, verifyWebhook, WEBHOOK_TOLERANCE,
} = require('./kisekae');

let operations = 0;
let members = [];                        // created, deleted at the end (or on failure)
let kisekae;

/* Thrown by fail() to end the walkthrough. */
class Failed extends Error {}

function ok(operation, text) {
  operations++;
  console.log(`ok   ${operation.padEnd(17)} ${text}`);
}

function fail(operation, why) {
  console.log(`FAIL ${operation}: ${why}`);
  throw new Failed(why);
}

function check(cond, operation, text) {
  if (cond) ok(operation, text);
  else fail(operation, text);
}

/* Awaits fn(); fails operation with the error it throws. */
async function attempt(operation, fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Failed) throw err;
    return fail(operation, String(err));
  }
}

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

/* Reads go to database replicas, which may be a moment behind the master: a
 * read right after a write is repeated (at most 30 times, 0.1 s apart) until
 * done(result); resolves to the last result. */
async function eventually(operation, fn, done) {
  let result;
  for (let i = 0; i < 30; i++) {
    result = await attempt(operation, fn);
    if (done(result)) break;
    await sleep(100);
  }
  return result;
}

/* fn() must reject with a KisekaeError of code want (again while it succeeds,
 * as eventually does). */
async function expectFault(operation, want, fn) {
  let error;
  for (let i = 0; i < 30 && !error; i++) {
    try {
      await fn();
      await sleep(100);
    } catch (err) {
      error = err;
    }
  }
  if (!error) fail(operation, `succeeded; expected the fault ${want}`);
  if (!(error instanceof KisekaeError) || error.code !== want)
    fail(operation, `expected a KisekaeError ${want}, got: ${error}`);
  ok(operation, `fault ${want}: ${error.detail}`);
}

function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`walkthrough.js: ${name} is not set`);
    process.exit(2);
  }
  return value;
}

/* [width, height] from a PNG's IHDR, or null if data is no PNG. */
function pngSize(data) {
  if (!Buffer.isBuffer(data) || data.length < 24 ||
      !data.subarray(0, 8).equals(Buffer.from('89504e470d0a1a0a', 'hex')) ||
      data.toString('latin1', 12, 16) !== 'IHDR')
    return null;
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

/* GET url: {status, body: Buffer}. */
function download(url) {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https : http).get(url, { timeout: 30000 },
      (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: timed out`)));
    request.on('error', reject);
  });
}

async function walkthrough(run) {
  const member = `walk-js-${run}-a`;
  const friend = `walk-js-${run}-b`;
  const missing = `walk-js-${run}-nobody`;
  let [canvasW, canvasH] = (process.env.KISEKAE_CANVAS || '').split('x').map(Number);

  // ---- the catalog: categories, items, one item, scenes
  const categories = await attempt('ListCategories', () => kisekae.listCategories());
  check(Array.isArray(categories) && categories.length > 0, 'ListCategories',
    `${categories.length} categories: ${categories.map((c) => c.name).join(' ')}`);
  const named = await attempt('ListCategories',
    () => kisekae.listCategories({ name: categories[0].name }));
  check(Array.isArray(named) && named.length === 1 && named[0].id === categories[0].id,
    'ListCategories', `name "${categories[0].name}": a list of one, id ${named[0] && named[0].id}`);

  const page = await attempt('ListItems', () => kisekae.listItems({ limit: 100 }));
  const items = page.item;
  check(items.length > 0 && page.total >= items.length && items.every((i) => i.status === 'published'),
    'ListItems', `${items.length} of ${page.total} published items`);
  // two items a member may put on and take off: not a default item, not of a
  // required category, of two different categories
  const required = new Set(categories.filter((c) => c.required).map((c) => c.id));
  const defaults = new Set(categories.map((c) => c.defaultItemId).filter((id) => id !== undefined));
  const free = items.filter((i) => !required.has(i.categoryId) && !defaults.has(i.id));
  const itemX = free[0];
  const itemY = itemX && free.find((i) => i.categoryId !== itemX.categoryId);
  if (!itemY) fail('ListItems', 'the catalog needs two optional items of two categories');
  const x = itemX.id;
  const y = itemY.id;

  const item = await attempt('GetItem', () => kisekae.getItem(x));
  check(item.id === x && item.name === itemX.name && Array.isArray(item.layer) &&
    item.layer.length >= 1 && item.layer[0].width > 0, 'GetItem',
  `item ${x} "${item.name}", ${item.layer.length} layer(s)`);

  const scenes = await attempt('ListScenes', () => kisekae.listScenes());
  if (!Array.isArray(scenes) || !scenes.length)
    fail('ListScenes', 'no scene in the catalog: an admin must register one (RegisterScene)');
  const scene = scenes.find((s) => s.slot.length >= 2) || scenes[0];
  ok('ListScenes', `${scenes.length} scene(s); using ${scene.id} "${scene.name}" with ` +
    `${scene.slot.length} slot(s)`);

  // ---- members
  let avatar = await attempt('CreateAvatar', () => kisekae.createAvatar(member));
  members.push(member);
  check(avatar.version === 1 && avatar.userId === member && Array.isArray(avatar.wornItemId),
    'CreateAvatar', `${member} version 1 on ${avatar.imageServer}, wearing ${avatar.wornItemId.join(' ')}`);
  const friendAvatar = await attempt('CreateAvatar', () => kisekae.createAvatar(friend));
  members.push(friend);
  check(friendAvatar.version === 1, 'CreateAvatar', `${friend} version 1`);

  avatar = await attempt('GetAvatar', () => kisekae.getAvatar(member, { minVersion: 1 }));
  check(avatar.version === 1 && avatar.url.endsWith('/1.png'), 'GetAvatar',
    `version ${avatar.version}, ${avatar.url}`);

  // ---- the outfit
  await expectFault('ChangeOutfit', 'NotOwned', () => kisekae.changeOutfit(member, { wear: [x] }));

  let granted = await attempt('GrantItem', () => kisekae.grantItem(member, x));
  check(granted.itemId === x && granted.alreadyOwned === false, 'GrantItem',
    `item ${x}, alreadyOwned false`);
  granted = await attempt('GrantItem', () => kisekae.grantItem(member, x));
  check(granted.alreadyOwned === true, 'GrantItem', `item ${x} again, alreadyOwned true`);
  await attempt('GrantItem', () => kisekae.grantItem(member, y));
  ok('GrantItem', `item ${y}`);

  const owned = await eventually('ListMemberItems', () => kisekae.listMemberItems(member),
    (r) => r.item.some((i) => i.itemId === y));
  const ownedIds = owned.item.map((i) => i.itemId);
  const wornIds = owned.item.filter((i) => i.worn).map((i) => i.itemId);
  check(owned.total === ownedIds.length && ownedIds.includes(x) && ownedIds.includes(y) &&
    !wornIds.includes(x) && !wornIds.includes(y), 'ListMemberItems',
  `total ${owned.total}: ${ownedIds.join(' ')} (the default items too), worn: ${wornIds.join(' ')}`);

  avatar = await attempt('ChangeOutfit', () => kisekae.changeOutfit(member, { wear: [x] }));
  check(avatar.version === 2 && avatar.wornItemId.includes(x), 'ChangeOutfit',
    `version ${avatar.version}, wearing ${avatar.wornItemId.join(' ')}`);

  avatar = await attempt('GetAvatar', () => kisekae.getAvatar(member, { minVersion: 2 }));
  let response = await attempt('GetAvatar', () => download(avatar.url));
  let size = pngSize(response.body);
  canvasW = canvasW || (size ? size[0] : 0);
  canvasH = canvasH || (size ? size[1] : 0);
  check(avatar.version === 2 && response.status === 200 && size && size[0] === canvasW &&
    size[1] === canvasH, 'GetAvatar',
  `version 2; ${avatar.url}: HTTP ${response.status}, PNG ${size ? size.join('x') : 'no'}`);

  const batch = await eventually('GetAvatars', () => kisekae.getAvatars([member, friend, missing]),
    (r) => r.avatar.length === 2 && r.avatar[0].version === 2);
  check(batch.avatar.length === 2 && batch.avatar[0].userId === member &&
    batch.avatar[1].userId === friend && Array.isArray(batch.missingUserId) &&
    batch.missingUserId.length === 1 && batch.missingUserId[0] === missing, 'GetAvatars',
  `2 avatars in the order asked; missingUserId, a list of one: [${batch.missingUserId.join(', ')}]`);

  const preview = await eventually('PreviewAvatar', () => kisekae.previewAvatar(member, { wear: [y] }),
    (r) => r.wornItemId.includes(x));
  size = pngSize(preview.png);
  const still = (await attempt('PreviewAvatar',
    () => kisekae.getAvatar(member, { minVersion: 2 }))).version;
  check(size && size[0] === canvasW && size[1] === canvasH && preview.wornItemId.includes(x) &&
    preview.wornItemId.includes(y) && still === 2, 'PreviewAvatar',
  `PNG ${size ? size.join('x') : 'no'} (a Buffer of ${preview.png.length} bytes), wearing ` +
    `${preview.wornItemId.join(' ')}; the avatar still at version ${still}`);

  const revoked = await attempt('RevokeItem', () => kisekae.revokeItem(member, x));
  check(revoked.wasOwned === true && revoked.wasWorn === true && revoked.avatar.version === 3 &&
    !revoked.avatar.wornItemId.includes(x), 'RevokeItem',
  `item ${x} was worn; version 3, wearing ${revoked.avatar.wornItemId.join(' ')}`);

  avatar = await attempt('RegenerateAvatar', () => kisekae.regenerateAvatar(member));
  check(avatar.version === 4 && avatar.url.endsWith('/4.png'), 'RegenerateAvatar',
    `version ${avatar.version}`);

  // ---- the album
  const friends = scene.slot.length >= 2 ? [friend] : [];
  const photo = await attempt('CreateAlbumPhoto', () => kisekae.createAlbumPhoto(member, scene.id,
    { friends, caption: `walkthrough node ${run}` }));
  response = await attempt('CreateAlbumPhoto', () => download(photo.url));
  const stood = photo.member.map((m) => `${m.slot}:${m.userId}`);
  check(photo.sceneId === scene.id && stood[0] === `0:${member}` && stood.length === 1 + friends.length &&
    response.status === 200 && response.body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
  'CreateAlbumPhoto', `photo ${photo.id} with ${stood.join(' ')}; ${photo.url}: ` +
    `HTTP ${response.status}, ${response.body.length} bytes of JPEG`);

  let album = await eventually('ListAlbumPhotos', () => kisekae.listAlbumPhotos(member),
    (r) => r.total === 1);
  check(album.total === 1 && album.photo.length === 1 && album.photo[0].id === photo.id,
    'ListAlbumPhotos', `total 1, a list of one: photo ${album.photo.length && album.photo[0].id}`);

  const deleted = await attempt('DeleteAlbumPhoto', () => kisekae.deleteAlbumPhoto(member, photo.id));
  album = await eventually('ListAlbumPhotos', () => kisekae.listAlbumPhotos(member),
    (r) => r.total === 0);
  check(deleted.photoId === photo.id && album.total === 0 && Array.isArray(album.photo) &&
    album.photo.length === 0, 'DeleteAlbumPhoto', `photo ${photo.id}; the album is an empty list`);

  // ---- tints: a worn item's tintable layers in any colour
  const hair = items.find((i) => i.layer.length && i.layer.every((l) => l.tintable === true));
  if (!hair) fail('ListItems', "the catalog has no tintable item (the sample catalog's hair is)");
  const h = hair.id;
  await attempt('GrantItem', () => kisekae.grantItem(friend, h));
  const tinted = await attempt('ChangeOutfit',
    () => kisekae.changeOutfit(friend, { wear: [h], colours: { [h]: '#3366cc' } }));
  const tints = colours(tinted);
  check(tinted.wornItemId.includes(h) && Array.isArray(tinted.wornColour) &&
    Object.keys(tints).length === 1 && tints[h] === '#3366CC', 'ChangeOutfit',
  `item ${h} "${hair.name}" in #3366cc: version ${tinted.version}, tint ${tints[h]}, ` +
    `${tinted.url}, animUrl ${tinted.animUrl || '(none: no animated item worn)'}`);
  const again = await attempt('GetAvatar',
    () => kisekae.getAvatar(friend, { minVersion: tinted.version }));
  check(colours(again)[h] === '#3366CC', 'GetAvatar',
    `version ${again.version}: tint ${colours(again)[h]}`);
  response = await attempt('download', () => download(tinted.url));
  size = pngSize(response.body);
  check(response.status === 200 && size && size[0] === canvasW && size[1] === canvasH, 'download',
    `the tinted avatar: HTTP ${response.status}, ${response.body.length} bytes of PNG`);
  const tryOn = await attempt('PreviewAvatar',
    () => kisekae.previewAvatar(friend, { colours: { [h]: '#CC3333' } }));
  check(pngSize(tryOn.png) && colours(tryOn)[h] === '#CC3333', 'PreviewAvatar',
    `item ${h} in #CC3333: PNG ${tryOn.png.length} bytes, tint ${colours(tryOn)[h]}`);
  const refused = await kisekae.changeOutfit(friend, { colours: { [h]: 'blue' } })
    .then(() => null, (err) => err);
  check(refused instanceof KisekaeError && refused.code === 'InvalidArgument' &&
    refused.faultcode === undefined, 'ChangeOutfit',
  `colour "blue": refused by the client (InvalidArgument, not sent: ${refused && refused.detail})`);

  // ---- webhooks: a site checks X-Kisekae-Signature before it trusts a body
  const secret = 'whsec-sample-0123456789abcdef';
  const body = '{"id":"42","type":"avatar.changed","created":"2026-01-01T00:00:00Z",' +
    '"data":{"userId":"alice","version":3}}';
  const signed = 1767225600;
  const header = `t=${signed},v1=8ec7ab68efae06b67c561de35c7c360266a5d4c49646c37f96289724d4ca7e53`;
  check(verifyWebhook(Buffer.from(body), header, secret, { now: signed + 60 }), 'webhook',
    `a signed sample payload, a minute after t=${signed}: accepted`);
  const tampered = body.replace('"version":3', '"version":4');
  check(!verifyWebhook(tampered, header, secret, { now: signed + 60 }), 'webhook',
    'a tampered body ("version":4): refused');
  check(!verifyWebhook(body, header, 'whsec-another-0123456789abcdef', { now: signed + 60 }),
    'webhook', 'another secret: refused');
  check(!verifyWebhook(body, header, secret), 'webhook',
    `the same payload now, long after t=${signed}: refused (older than ${WEBHOOK_TOLERANCE} s)`);

  // ---- faults and the end
  await expectFault('GetAvatar', 'NotFound', () => kisekae.getAvatar(missing));
  for (const userId of [friend, member]) {
    const gone = await attempt('DeleteAvatar', () => kisekae.deleteAvatar(userId));
    check(gone.userId === userId, 'DeleteAvatar',
      `${userId}, ${gone.albumPhotosDeleted} album photo(s) deleted`);
  }
  members = [];
  await expectFault('GetAvatar', 'NotFound', () => kisekae.getAvatar(member));
}

async function main() {
  const urls = env('KISEKAE_API_URLS').split(/\s+/).filter((u) => u);
  const run = process.env.KISEKAE_SAMPLE_RUN || `${Math.floor(Date.now() / 1000)}-${process.pid}`;
  kisekae = new KisekaeClient({ urls, user: env('KISEKAE_SITE_USER'),
    password: env('KISEKAE_SITE_PASSWORD') });
  let code = 0;
  try {
    await walkthrough(run);
    console.log(`walkthrough node: passed (${operations} operations)`);
  } catch (err) {
    if (!(err instanceof Failed)) console.log(`FAIL walkthrough: ${err.stack || err}`);
    // leave nothing behind; errors here change nothing to the verdict
    for (const userId of members) await kisekae.deleteAvatar(userId).catch(() => {});
    code = 1;
  }
  kisekae.close();
  process.exitCode = code;
}

main();
