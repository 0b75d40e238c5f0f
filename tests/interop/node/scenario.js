#!/usr/bin/env node
/* scenario.js: the interop scenario through Node's `soap` package (pinned in
 * package-lock.json; tests/interop/run.py installs it with `npm ci` and
 * points NODE_PATH at it).
 *
 * Builds its client from the WSDL the API serves (KISEKAE_API_URL + "?wsdl")
 * and runs the scenario every language of tests/interop runs, printing one
 * line per step ("ok", "FAIL" or "skip") and exiting 1 on any mismatch. The
 * steps and the environment it reads are described in tests/interop/run.py.
 *
 *   KISEKAE_API_URL=... KISEKAE_SITE_USER=... (see run.py) node scenario.js
 */
'use strict';

const fs = require('fs');
const http = require('http');
const path = require('path');
const soap = require('soap');

const LANG = 'node';
let failures = 0;
let currentStep = 'setup';       // named in the message of an unexpected error

function begin(step) {
  currentStep = step;
}

function ok(step, text) {
  console.log(`ok   ${step}: ${text}`);
}

function check(cond, step, text) {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${step}: ${text}`);
  if (!cond) failures++;
  return cond;
}

function fatal(step, text) {
  console.log(`FAIL ${step}: ${text}\n${LANG}: FAILED`);
  process.exit(1);
}

function env(name, fallback) {
  const value = process.env[name] || fallback;
  if (!value) {
    console.error(`${LANG}: ${name} is not set (see tests/interop/run.py)`);
    process.exit(2);
  }
  return value;
}

/* A client of the served WSDL with Basic auth; calls go to endpoint (the
 * WSDL's own address would do too: the server writes the address it was
 * asked on into it). */
async function client(wsdlUrl, endpoint, user, password) {
  const c = await soap.createClientAsync(wsdlUrl, { endpoint });
  c.setSecurity(new soap.BasicAuthSecurity(user, password));
  return c;
}

/* The SOAP Fault of a failed call, or undefined (e.g. a connection error). */
function soapFault(err) {
  return err && err.root && err.root.Envelope && err.root.Envelope.Body &&
    err.root.Envelope.Body.Fault;
}

/* The stable code of a KisekaeFault detail, or undefined. */
function faultCode(fault) {
  return fault && fault.detail && fault.detail.KisekaeFault && fault.detail.KisekaeFault.code;
}

/* Calls operation; resolves to its result (the response element's content;
 * null when the response element is empty). */
async function call(c, operation, args) {
  const [result] = await c[`${operation}Async`](args);
  return result;
}

/* [width, height] from a PNG's IHDR, or null if data is no PNG. */
function pngSize(data) {
  if (data.length < 24 || !data.subarray(0, 8).equals(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1')) ||
      data.toString('latin1', 12, 16) !== 'IHDR')
    return null;
  return [data.readUInt32BE(16), data.readUInt32BE(20)];
}

function get(url) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { timeout: 30000 }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url}: timed out`)));
    request.on('error', reject);
  });
}

function sameSet(a, b) {
  const sorted = (list) => JSON.stringify([...list].sort((x, y) => x - y));
  return sorted(a) === sorted(b);
}

const ids = (list) => `[${list.join(', ')}]`;

async function scenario(site, admin, operations, tag, run, layersDir, canvas) {
  /* ---- catalog: a category of ours and two items in it, made once per
   * language and transport (a run against a reused stack finds them) */
  begin('catalog');
  const categoryName = `interop-${LANG}-${tag}`;
  const listed = await call(site, 'ListCategories', { name: categoryName });
  let category;
  const itemIds = {};
  if (listed && listed.category && listed.category.length) {
    category = listed.category[0];
    const items = await call(site, 'ListItems', { categoryId: category.id });
    for (const item of (items && items.item) || []) itemIds[item.name] = item.id;
  } else {
    category = (await call(admin, 'RegisterCategory', {
      name: categoryName, zOrder: 650, exclusive: false, required: false,
    })).category;
  }
  for (const key of ['a', 'b']) {
    const name = `${categoryName} item ${key}`;
    if (itemIds[name]) continue;
    // base64Binary must be given as a base64 string: a Buffer is not encoded
    const png = fs.readFileSync(path.join(layersDir, `layer-${key}.png`)).toString('base64');
    const item = (await call(admin, 'RegisterItem', {
      categoryId: category.id, name, price: 0, layer: [{ png }],
    })).item;
    itemIds[name] = item.id;
  }
  const itemA = itemIds[`${categoryName} item a`];
  const itemB = itemIds[`${categoryName} item b`];
  ok('catalog', `category ${categoryName} (id ${category.id}), items ${itemA} and ${itemB}`);

  /* ---- CreateAvatar: a member of this language and run */
  begin('CreateAvatar');
  const userId = `interop-${LANG}-${tag}-${run}`;
  let avatar = (await call(site, 'CreateAvatar', { userId })).avatar;
  const base = avatar.wornItemId || [];    // the default items of required categories
  check(avatar.version === 1 && Array.isArray(base), 'CreateAvatar',
    `${userId} version ${avatar.version} on ${avatar.imageServer}, wearing ${ids(base)}`);

  /* ---- fault: wearing an item not owned yet */
  begin('fault');
  try {
    await call(site, 'ChangeOutfit', { userId, wear: [itemA] });
    check(false, 'fault', 'ChangeOutfit wearing an item not owned succeeded');
  } catch (err) {
    const fault = soapFault(err);
    if (!fault) throw err;
    check(faultCode(fault) === 'NotOwned' && /:Client$/.test(fault.faultcode), 'fault',
      `ChangeOutfit wearing item ${itemA} not owned: faultcode ${fault.faultcode}, ` +
      `detail code ${faultCode(fault)} (${fault.faultstring})`);
  }

  /* ---- GrantItem */
  begin('GrantItem');
  for (const itemId of [itemA, itemB]) {
    const granted = await call(site, 'GrantItem', { userId, itemId });
    check(granted.itemId === itemId && granted.alreadyOwned === false, 'GrantItem',
      `item ${granted.itemId}, alreadyOwned ${granted.alreadyOwned}`);
  }

  /* ---- ChangeOutfit: a one-element array, then a two-element array */
  begin('ChangeOutfit');
  avatar = (await call(site, 'ChangeOutfit', { userId, wear: [itemA] })).avatar;
  let worn = avatar.wornItemId || [];
  check(avatar.version === 2 && sameSet(worn, [...base, itemA]), 'ChangeOutfit [a]',
    `version ${avatar.version}, wearing ${ids(worn)}`);
  avatar = (await call(site, 'ChangeOutfit', { userId, wear: [itemA, itemB] })).avatar;
  worn = avatar.wornItemId || [];
  check(avatar.version === 3 && sameSet(worn, [...base, itemA, itemB]), 'ChangeOutfit [a,b]',
    `version ${avatar.version}, wearing ${ids(worn)}`);
  const changedUrl = avatar.url;

  /* ---- GetAvatar: the version the last change returned (the fault changed nothing) */
  begin('GetAvatar');
  avatar = (await call(site, 'GetAvatar', { userId, minVersion: 3 })).avatar;
  check(avatar.version === 3 && avatar.url === changedUrl && avatar.url.endsWith('/3.png'),
    'GetAvatar', `version ${avatar.version}, ${avatar.url}`);

  /* ---- download: the avatar PNG from its URL */
  begin('download');
  const response = await get(avatar.url);
  const size = pngSize(response.body);
  check(response.status === 200 && size !== null && size[0] === canvas[0] && size[1] === canvas[1],
    'download', `HTTP ${response.status}, ${response.body.length} bytes, PNG ` +
    `${size ? size.join('x') : 'no'} (canvas ${canvas.join('x')})`);

  /* ---- PreviewAvatar: the outfit without b, as a PNG; nothing saved. The
   * PNG comes as a base64 string. */
  const preview = async () => {
    const answer = await call(site, 'PreviewAvatar', { userId, remove: [itemB] });
    const previewSize = pngSize(Buffer.from(answer.png, 'base64'));
    const previewWorn = answer.wornItemId || [];
    const still = (await call(site, 'GetAvatar', { userId, minVersion: 3 })).avatar.version;
    check(previewSize !== null && previewSize[0] === canvas[0] && previewSize[1] === canvas[1] &&
      sameSet(previewWorn, [...base, itemA]) && still === 3, 'PreviewAvatar',
    `PNG ${previewSize ? previewSize.join('x') : 'no'}, wearing ${ids(previewWorn)}, ` +
      `the avatar still at version ${still}`);
  };

  /* ---- CreateAlbumPhoto: on a scene of ours (layer a as its background, one
   * slot), then the JPEG from its URL */
  const albumPhoto = async () => {
    const sceneName = `interop-${LANG}-${tag}`;
    const scenes = await call(site, 'ListScenes', {});
    let scene = ((scenes && scenes.scene) || []).find((s) => s.name === sceneName);
    if (!scene) {
      const png = fs.readFileSync(path.join(layersDir, 'layer-a.png')).toString('base64');
      scene = (await call(admin, 'RegisterScene', {
        name: sceneName, png, slot: [{ x: 0, y: 0 }],
      })).scene;
    }
    const photo = (await call(site, 'CreateAlbumPhoto', {
      userId, sceneId: scene.id, caption: `interop ${LANG}`,
    })).photo;
    const jpeg = await get(photo.url);
    const members = (photo.member || []).map((m) => m.userId);
    check(photo.url.endsWith(`/${photo.id}.jpg`) && members.length === 1 && members[0] === userId &&
      jpeg.status === 200 && jpeg.body.subarray(0, 3).equals(Buffer.from([0xff, 0xd8, 0xff])),
    'CreateAlbumPhoto',
    `scene ${scene.id}, photo ${photo.id}: HTTP ${jpeg.status}, ${jpeg.body.length} bytes of JPEG`);
  };

  /* ---- operations added lately: each runs when the WSDL has it */
  const steps = { PreviewAvatar: preview, CreateAlbumPhoto: albumPhoto };
  for (const operation of Object.keys(steps)) {
    begin(operation);
    if (!operations.includes(operation)) {
      console.log(`skip: ${operation} not in WSDL`);
    } else if (!steps[operation]) {
      check(false, operation, 'the WSDL has it but this client has no step for it yet');
    } else {
      await steps[operation]();
    }
  }
}

async function main() {
  const url = env('KISEKAE_API_URL');
  const tag = env('KISEKAE_INTEROP_TAG', 'manual');
  const run = process.env.KISEKAE_INTEROP_RUN || `${Math.floor(Date.now() / 1000)}${process.pid % 1000}`;
  const layersDir = env('KISEKAE_INTEROP_LAYERS');
  const canvas = env('KISEKAE_CANVAS', '240x320').split('x').map(Number);
  const wsdlUrl = `${url}?wsdl`;

  /* ---- wsdl: both roles' clients from the served WSDL */
  begin('wsdl');
  let site, admin;
  try {
    site = await client(wsdlUrl, url, env('KISEKAE_SITE_USER'), env('KISEKAE_SITE_PASSWORD'));
    admin = await client(wsdlUrl, url, env('KISEKAE_ADMIN_USER'), env('KISEKAE_ADMIN_PASSWORD'));
  } catch (err) {
    fatal(currentStep, `${wsdlUrl}: ${err.message}`);
  }
  // describe(): service -> port -> operations
  const operations = [];
  for (const ports of Object.values(site.describe()))
    for (const ops of Object.values(ports)) operations.push(...Object.keys(ops));
  ok('wsdl', `${wsdlUrl}: ${operations.length} operations`);

  try {
    await scenario(site, admin, operations, tag, run, layersDir, canvas);
  } catch (err) {
    const fault = soapFault(err);
    if (fault)
      fatal(currentStep, `unexpected fault ${fault.faultcode} ${faultCode(fault)}: ${fault.faultstring}`);
    fatal(currentStep, err.stack || String(err));
  }
  if (failures) {
    console.log(`${LANG}: FAILED (${failures})`);
    process.exit(1);
  }
  console.log(`${LANG}: passed`);
}

main();
