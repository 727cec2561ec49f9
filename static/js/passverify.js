/* The offline pass verifier, in the browser (docs/pass-format.md, section 11).
 *
 * The guard's scanner decides with it when the network is down. It takes the steps of
 * fangkong/passes/verify.py in the same order and reaches the same verdict on every vector
 * in docs/pass-vectors/ (a browser test runs them all and compares with the Python
 * verifier). No dependencies: base45 here, inflate by DecompressionStream, a small strict
 * CBOR reader, ES256 and SHA-256 by WebCrypto (a secure context: https or localhost).
 *
 *   FKPass.verifyTrustList(signed, rootKey) -> Promise<trustList>
 *     signed: the trust-list answer ({"jws": ...}, as an object or its JSON text) or the
 *     JWS itself; rootKey: the pinned root key ({"hex": "04..."} or {"jwk": {...}}, as
 *     GET /api/v1/passes/root-key answers, or the hex). Rejects with an Error whose code is
 *     "trust_list_invalid" when the list must be discarded whole (keep the previous one).
 *     The list keeps its JWS (trustList.jws): store that, and check it again when loading.
 *
 *   FKPass.verify(code, {trustList, revoked, now, clockOffset, policy}) -> Promise<verdict>
 *     revoked: {kid_hex: Set (or array) of SHA-256 hex of revoked pass ids};
 *     now: the corrected clock in ms (the scanner's clock plus the server's offset);
 *     clockOffset: that offset in ms, for the clock_off warning (default 0);
 *     policy: as verify.Policy: {zones, admit_statuses, refuse_printed,
 *     refuse_without_device_key, outsiders_banned}; "zone" and "admit_colours" are read as
 *     zones and admit_statuses. Never rejects: anything unreadable is "malformed".
 *     verdict: {ok, code (= reason), reason, detail, message_zh, warnings,
 *     warning_messages_zh, claims}. claims is null when the pass could not be read or its
 *     signature not trusted (unknown_key, bad_signature), else {issuer, pass_id_hex,
 *     pass_id_hash, kind, holder, unit, zones, colour, printed, device_key (point hex or
 *     null), iat, nbf, exp} (times in unix seconds).
 *
 *   FKPass.warnings(trustList, now, clockOffset) -> [codes]: the list's warnings without a
 *     scan (for the banner). FKPass.MESSAGES_ZH: the guard's words, verify.py's in Chinese.
 *
 * Strict: whatever the Python verifier refuses is refused here too. Where the Python CBOR
 * library reads more than the format needs (semantic tags other than bignums and the
 * self-describe tag, a device key as a JWK with loose base64), this reader refuses: a
 * refusal, never an admission.
 */
(function () {
  "use strict";

  var PREFIX = "FK1:";
  var PROOF_PREFIX = "FK1P:";
  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var MAX_TEXT = 4096; // characters of the pass text (FK1: and base45)
  var MAX_COSE = 8192; // bytes after inflating: refuse a bomb
  var PROOF_TEXT_LENGTH = 102; // base45 of 68 bytes: window (uint32) and r||s
  var PROOF_BYTES = 68;
  var WINDOW_MS = 30000;
  var PROOF_TOLERANCE_MS = 60000;
  var TRUST_LIST_TYPE = "fangkong-trust-list+jws";
  var TRUST_LIST_WARN_SECONDS = 24 * 3600;
  var CLOCK_WARN_SECONDS = 5 * 60;
  var COSE_SIGN1_TAG = 18;
  var ALG_ES256 = -7;
  var HEADER_ALG = 1, HEADER_KID = 4;
  var CLAIM_ISS = 1, CLAIM_EXP = 4, CLAIM_NBF = 5, CLAIM_IAT = 6, CLAIM_PASS = -65537;
  var F_ID = 1, F_KIND = 2, F_HOLDER = 3, F_UNIT = 4, F_ZONES = 5, F_STATUS = 6;
  var F_DEVICE_KEY = 7, F_PRINTED = 8;
  var KINDS = ["person", "vehicle", "visitor"];
  var MAX_DEPTH = 64; // nesting; a pass needs 4
  // Tags the Python CBOR library turns into values of its own; this reader reads the
  // bignums (2, 3) and the self-describe tag (55799) and refuses the rest.
  var SEMANTIC_TAGS = [0, 1, 4, 5, 25, 28, 29, 30, 35, 36, 37, 52, 54, 100, 256, 258, 260, 261, 1004];
  var ES256 = { name: "ECDSA", hash: "SHA-256" };
  var P256 = { name: "ECDSA", namedCurve: "P-256" };

  var OK = "ok", EXPIRED = "expired", NOT_YET_VALID = "not_yet_valid", REVOKED = "revoked";
  var BAD_SIGNATURE = "bad_signature", UNKNOWN_KEY = "unknown_key", STATUS = "status";
  var ZONE = "zone", STALE_PROOF = "stale_proof", TRUST_LIST_EXPIRED = "trust_list_expired";
  var MALFORMED = "malformed";
  var TRUST_LIST_EXPIRING = "trust_list_expiring", CLOCK_OFF = "clock_off";

  // verify.py's MESSAGES, DETAIL_MESSAGES and WARNING_MESSAGES in Chinese (the catalogue's
  // words; a test keeps them equal).
  var MESSAGES_ZH = {
    reasons: {
      ok: "准许通行",
      expired: "通行证已过期",
      not_yet_valid: "通行证尚未生效",
      revoked: "通行证已吊销",
      bad_signature: "通行证无效：签名不符，可能被篡改",
      unknown_key: "通行证的签发密钥不在信任列表中",
      status: "持证人当前健康状态不允许通行",
      zone: "通行证不适用于本卡口",
      stale_proof: "动态码已过期，请出示手机实时通行码",
      trust_list_expired: "信任列表已过期，全部禁止通行：请联网同步后再扫码",
      malformed: "不是有效的通行码"
    },
    details: {
      outsiders_banned: "本卡口禁止外来人员进入",
      printed_refused: "本卡口不接受纸质通行证，请出示手机实时通行码",
      no_device_key: "本卡口只接受绑定手机的实时通行码",
      proof_signature: "动态码签名不符，请出示手机实时通行码"
    },
    warnings: {
      trust_list_expiring: "信任列表将在24小时内过期，请尽快联网同步",
      clock_off: "扫码设备时钟与服务器相差超过5分钟，请校准时间"
    }
  };

  // ---------------------------------------------------------------- bytes

  function Malformed(why) { this.why = why; }
  function fail(why) { throw new Malformed(why); }

  function toHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }
  function fromHex(hex) {
    if (typeof hex !== "string" || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) fail("not hex");
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }
  function concat() {
    var size = 0, at = 0, i;
    for (i = 0; i < arguments.length; i++) size += arguments[i].length;
    var out = new Uint8Array(size);
    for (i = 0; i < arguments.length; i++) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }
  function ascii(text) {
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) {
      if (text.charCodeAt(i) > 127) fail("not ASCII");
      out[i] = text.charCodeAt(i);
    }
    return out;
  }
  function uint32(n) {
    return new Uint8Array([(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
  }
  var utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  function text(bytes) {
    try { return utf8.decode(bytes); } catch (e) { return fail("not UTF-8"); }
  }

  // RFC 9285, as the Python side reads it: trailing line feeds are dropped.
  var B45_VALUE = {};
  for (var b45i = 0; b45i < B45.length; b45i++) B45_VALUE[B45.charAt(b45i)] = b45i;
  function base45(chars) {
    chars = chars.replace(/\n+$/, "");
    if (chars.length % 3 === 1) fail("base45 length");
    var out = new Uint8Array(Math.floor(chars.length / 3) * 2 + (chars.length % 3 ? 1 : 0));
    var at = 0;
    for (var i = 0; i < chars.length; i += 3) {
      var c = B45_VALUE[chars.charAt(i)], d = B45_VALUE[chars.charAt(i + 1)];
      if (c === undefined || d === undefined) fail("base45 character");
      if (i + 2 < chars.length) {
        var e = B45_VALUE[chars.charAt(i + 2)];
        if (e === undefined) fail("base45 character");
        var n = c + d * 45 + e * 2025;
        if (n > 0xffff) fail("base45 triple");
        out[at++] = n >> 8;
        out[at++] = n & 255;
      } else {
        if (c + d * 45 > 0xff) fail("base45 pair");
        out[at++] = c + d * 45;
      }
    }
    return out;
  }

  function unbase64url(chars) {
    if (typeof chars !== "string" || !/^[A-Za-z0-9_-]*$/.test(chars) || chars.length % 4 === 1) {
      fail("not base64url");
    }
    var binary = atob(chars.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - chars.length % 4) % 4));
    var out = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
    return out;
  }

  // One whole zlib stream (RFC 1950): header, deflate, checksum, nothing after; at most
  // MAX_COSE bytes out.
  function inflate(bytes) {
    var stream = new DecompressionStream("deflate");
    var writer = stream.writable.getWriter();
    writer.write(bytes).catch(function () {});
    writer.close().catch(function () {});
    var reader = stream.readable.getReader();
    var chunks = [], size = 0;
    function next() {
      return reader.read().then(function (step) {
        if (step.done) return concat.apply(null, chunks);
        size += step.value.length;
        if (size > MAX_COSE) {
          reader.cancel().catch(function () {});
          return fail("too long");
        }
        chunks.push(step.value);
        return next();
      });
    }
    return next().catch(function (error) {
      if (error instanceof Malformed) throw error;
      return fail("not zlib");
    });
  }

  // ---------------------------------------------------------------- CBOR (RFC 8949)
  //
  // The subset of what the Python side accepts that a pass can use: integers (any length
  // encoding), byte and text strings (definite or in chunks), arrays, maps, tags (18 is
  // kept as a tag; 2 and 3 are bignums; 55799 is read through), false, true, null,
  // undefined, simple values and floats. Trailing bytes after the item are ignored, as
  // there. Maps keep their entries: a key is looked up as Python's dict would (1, 1.0 and
  // true are the same key; the last of equal keys wins). Under tag 55799 the Python
  // library makes maps immutable (so under any tag), which are then not maps to the
  // verifier: kept here as "frozen".

  function Float(value) { this.value = value; }
  function Simple(value) { this.value = value; }
  function Tag(tag, value) { this.tag = tag; this.value = value; }
  function CborMap(entries, frozen) { this.entries = entries; this.frozen = frozen; }
  var UNDEFINED = { undefined: true };

  function cbor(bytes) {
    return item({ b: bytes, i: 0 }, 0, false);
  }
  function need(r, n) {
    if (n > r.b.length - r.i) fail("premature end");
  }
  function byte(r) {
    need(r, 1);
    return r.b[r.i++];
  }
  function argument(r, info) {
    var b = r.b, i = r.i, value;
    if (info < 24) return info;
    if (info === 24) return byte(r);
    if (info === 25) { need(r, 2); value = b[i] * 256 + b[i + 1]; r.i += 2; return value; }
    if (info === 26) { need(r, 4); value = ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3]; r.i += 4; return value; }
    if (info === 27) {
      need(r, 8);
      var high = ((b[i] << 24) >>> 0) + (b[i + 1] << 16) + (b[i + 2] << 8) + b[i + 3];
      var low = ((b[i + 4] << 24) >>> 0) + (b[i + 5] << 16) + (b[i + 6] << 8) + b[i + 7];
      r.i += 8;
      return high * 4294967296 + low; // exact up to 2^53; beyond, order is kept
    }
    return fail("reserved additional information");
  }
  function isBreak(r) {
    need(r, 1);
    if (r.b[r.i] !== 0xff) return false;
    r.i++;
    return true;
  }
  function chunked(r, major) {
    var parts = [];
    while (!isBreak(r)) {
      var head = byte(r);
      if (head >> 5 !== major || (head & 31) === 31) fail("bad chunk");
      var n = argument(r, head & 31);
      need(r, n);
      var chunk = r.b.subarray(r.i, r.i + n);
      r.i += n;
      parts.push(major === 3 ? text(chunk) : chunk);
    }
    return major === 3 ? parts.join("") : concat.apply(null, parts);
  }
  function item(r, depth, frozen) {
    if (depth > MAX_DEPTH) fail("too deep");
    var head = byte(r), major = head >> 5, info = head & 31, list, entries, n, i;
    if (major === 7) return special(r, info);
    if (info === 31) {
      if (major === 2 || major === 3) return chunked(r, major);
      if (major === 4) {
        list = [];
        while (!isBreak(r)) list.push(item(r, depth + 1, frozen));
        return list;
      }
      if (major === 5) {
        entries = [];
        while (!isBreak(r)) entries.push([item(r, depth + 1, true), item(r, depth + 1, frozen)]);
        return new CborMap(entries, frozen);
      }
      return fail("indefinite length not allowed");
    }
    n = argument(r, info);
    switch (major) {
      case 0:
        return n;
      case 1:
        return -1 - n;
      case 2:
      case 3:
        need(r, n);
        var raw = r.b.slice(r.i, r.i + n);
        r.i += n;
        return major === 3 ? text(raw) : raw;
      case 4:
        need(r, n); // each item takes a byte at least
        list = [];
        for (i = 0; i < n; i++) list.push(item(r, depth + 1, frozen));
        return list;
      case 5:
        need(r, n * 2);
        entries = [];
        for (i = 0; i < n; i++) entries.push([item(r, depth + 1, true), item(r, depth + 1, frozen)]);
        return new CborMap(entries, frozen);
      default:
        return tagged(r, n, depth);
    }
  }
  function tagged(r, tag, depth) {
    // The Python library reads a tag's content as immutable: its maps are not dicts.
    if (tag === 55799) return item(r, depth + 1, true);
    if (SEMANTIC_TAGS.indexOf(tag) >= 0) fail("tag " + tag + " is not read");
    var value = item(r, depth + 1, true);
    if (tag !== 2 && tag !== 3) return new Tag(tag, value);
    if (!(value instanceof Uint8Array)) fail("a bignum is a byte string");
    var number = 0;
    for (var i = 0; i < value.length; i++) number = number * 256 + value[i];
    return tag === 2 ? number : -1 - number;
  }
  function special(r, info) {
    if (info < 20) return new Simple(info);
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return UNDEFINED;
    if (info === 24) {
      var value = byte(r);
      if (value < 32) fail("bad simple value");
      return new Simple(value);
    }
    var view, size = { 25: 2, 26: 4, 27: 8 }[info];
    if (!size) return fail(info === 31 ? "break where an item was expected" : "reserved simple value");
    need(r, size);
    view = new DataView(r.b.buffer, r.b.byteOffset + r.i, size);
    r.i += size;
    if (size === 2) return new Float(half(view.getUint16(0)));
    return new Float(size === 4 ? view.getFloat32(0) : view.getFloat64(0));
  }
  function half(bits) {
    var exponent = (bits >> 10) & 31, fraction = bits & 1023, sign = bits & 0x8000 ? -1 : 1;
    if (exponent === 0) return sign * fraction * Math.pow(2, -24);
    if (exponent === 31) return fraction ? NaN : sign * Infinity;
    return sign * (1 + fraction / 1024) * Math.pow(2, exponent - 15);
  }

  // Python's view of a decoded value: a number compares equal across int, float and bool.
  function numeric(value) {
    if (typeof value === "number") return value;
    if (typeof value === "boolean") return value ? 1 : 0;
    if (value instanceof Float) return value.value;
    return NaN;
  }
  function isDict(value) { return value instanceof CborMap && !value.frozen; }
  function isInteger(value) { return typeof value === "number"; } // floats are Float
  function get(map, key) {
    for (var i = map.entries.length - 1; i >= 0; i--) {
      var k = map.entries[i][0];
      if (typeof key === "string" ? k === key : numeric(k) === key) return map.entries[i][1];
    }
    return undefined;
  }

  // ---------------------------------------------------------------- keys and signatures

  var keyCache = new Map(); // point hex -> Promise<CryptoKey>: importing costs more than verifying
  function publicKey(point) {
    if (!(point instanceof Uint8Array) || point.length !== 65 || point[0] !== 4) {
      return Promise.reject(new Malformed("not an uncompressed P-256 point"));
    }
    var hex = toHex(point);
    var cached = keyCache.get(hex);
    if (!cached) {
      if (keyCache.size >= 512) keyCache.clear();
      cached = crypto.subtle.importKey("raw", point, P256, false, ["verify"]).catch(function () {
        keyCache.delete(hex);
        throw new Malformed("not a point on P-256");
      });
      keyCache.set(hex, cached);
    }
    return cached;
  }
  function verifyRaw(key, signature, message) {
    if (signature.length !== 64) return Promise.resolve(false); // raw r||s only, never DER
    return crypto.subtle.verify(ES256, key, signature, message).catch(function () { return false; });
  }
  function sha256(bytes) {
    return crypto.subtle.digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); });
  }
  function pointOfJwk(jwk) {
    if (!jwk || typeof jwk !== "object" || jwk.kty !== "EC" || jwk.crv !== "P-256") fail("not a P-256 JWK");
    var x = unbase64url(jwk.x), y = unbase64url(jwk.y);
    if (x.length !== 32 || y.length !== 32) fail("not a P-256 JWK");
    return concat(new Uint8Array([4]), x, y);
  }
  function bstrHead(length) {
    if (length < 24) return new Uint8Array([0x40 + length]);
    if (length < 256) return new Uint8Array([0x58, length]);
    if (length < 65536) return new Uint8Array([0x59, length >> 8, length & 255]);
    return concat(new Uint8Array([0x5a]), uint32(length));
  }
  var SIGNATURE1 = new Uint8Array([0x84, 0x6a, 0x53, 0x69, 0x67, 0x6e, 0x61, 0x74, 0x75, 0x72, 0x65, 0x31]);
  function sigStructure(protectedBytes, payload) {
    // ["Signature1", protected, h'', payload] (RFC 9052, section 4.4)
    return concat(SIGNATURE1, bstrHead(protectedBytes.length), protectedBytes, new Uint8Array([0x40]),
      bstrHead(payload.length), payload);
  }
  var PROOF_CONTEXT = ascii("FK1-PROOF");
  function proofMessage(passId, window) {
    return concat(PROOF_CONTEXT, passId, uint32(window));
  }

  // ---------------------------------------------------------------- the trust list

  function invalidList(why) {
    var error = new Error("The trust list is discarded: " + why);
    error.code = "trust_list_invalid";
    return error;
  }
  function rootPoint(rootKey) {
    if (typeof rootKey === "string") return fromHex(rootKey);
    if (rootKey && typeof rootKey.hex === "string") return fromHex(rootKey.hex);
    if (rootKey && rootKey.jwk) return pointOfJwk(rootKey.jwk);
    return fail("no root key");
  }
  function jwsOf(signed) {
    if (typeof signed === "string" && signed.trim().charAt(0) === "{") signed = JSON.parse(signed);
    if (signed && typeof signed === "object") signed = signed.jws;
    if (typeof signed !== "string") fail("no JWS");
    return signed;
  }
  function json(part) {
    var value = JSON.parse(text(unbase64url(part)));
    if (!value || typeof value !== "object" || Array.isArray(value)) fail("not a JSON object");
    return value;
  }
  function integer(value) { // Python's int() of a number or a text of digits
    if (typeof value === "number" && isFinite(value)) return Math.trunc(value);
    if (typeof value === "boolean") return value ? 1 : 0;
    if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) return parseInt(value, 10);
    return fail("not an integer");
  }

  function verifyTrustList(signed, rootKey) {
    var parts, header, signature, payload;
    return Promise.resolve().then(function () {
      parts = jwsOf(signed).split(".");
      if (parts.length !== 3) fail("not a compact JWS");
      header = json(parts[0]);
      signature = unbase64url(parts[2]);
      if (header.alg !== "ES256" || header.typ !== TRUST_LIST_TYPE) fail("not a fangkong trust list");
      return publicKey(rootPoint(rootKey));
    }).then(function (root) {
      return verifyRaw(root, signature, ascii(parts[0] + "." + parts[1]));
    }).then(function (genuine) {
      if (!genuine) fail("the root key's signature does not match");
      payload = json(parts[1]);
      if (!Array.isArray(payload.keys)) fail("no keys");
      return Promise.all(payload.keys.map(trustedKey));
    }).then(function (entries) {
      var keys = {};
      entries.forEach(function (entry) { keys[entry.kid] = entry; });
      return {
        version: integer(payload.version),
        issued_at: integer(payload.issued_at),
        valid_until: integer(payload.valid_until),
        keys: keys,
        jws: parts.join(".")
      };
    }).catch(function (error) {
      throw invalidList(error instanceof Malformed ? error.why : String(error && error.message));
    });
  }
  function trustedKey(entry) {
    if (!entry || typeof entry !== "object") fail("an entry is not an object");
    var kid = toHex(fromHex(String(entry.kid).replace(/\s+/g, ""))), point = pointOfJwk(entry.jwk);
    var until = entry.valid_until;
    var trusted = {
      kid: kid,
      unit: String(entry.unit),
      point: toHex(point),
      valid_from: integer(entry.valid_from),
      valid_until: until === null || until === undefined ? null : integer(until),
      key: null
    };
    return sha256(point).then(function (digest) {
      if (toHex(digest.subarray(0, 8)) !== kid) fail("kid does not match the key");
      return publicKey(point);
    }).then(function (key) {
      trusted.key = key;
      return trusted;
    });
  }
  function keyAt(trustList, kid, clock) {
    var key = Object.prototype.hasOwnProperty.call(trustList.keys, kid) ? trustList.keys[kid] : null;
    if (!key || !(key.valid_from <= clock && (key.valid_until === null || clock < key.valid_until))) return null;
    return key;
  }

  // ---------------------------------------------------------------- decoding a pass

  // Return {text, proof} from what the scanner read (format.split_moving_code).
  function splitMovingCode(code) {
    if (code.slice(0, PROOF_PREFIX.length) !== PROOF_PREFIX) return { text: code, proof: null };
    var head = code.slice(PROOF_PREFIX.length, PROOF_PREFIX.length + PROOF_TEXT_LENGTH);
    var raw = base45(head);
    if (raw.length !== PROOF_BYTES) fail("bad proof");
    var window = ((raw[0] << 24) >>> 0) + (raw[1] << 16) + (raw[2] << 8) + raw[3];
    return {
      text: PREFIX + code.slice(PROOF_PREFIX.length + PROOF_TEXT_LENGTH),
      proof: { window: window, signature: raw.slice(4) }
    };
  }

  // format.decode: the COSE_Sign1's parts and the claims; the signature is not checked.
  function decode(passText) {
    if (passText.slice(0, PREFIX.length) !== PREFIX || passText.length > MAX_TEXT) fail("no FK1: prefix");
    return inflate(base45(passText.slice(PREFIX.length))).then(function (cose) {
      var outer = cbor(cose);
      if (outer instanceof Tag) {
        if (outer.tag !== COSE_SIGN1_TAG) fail("not a COSE_Sign1");
        outer = outer.value;
      }
      if (!Array.isArray(outer) || outer.length !== 4) fail("not a COSE_Sign1");
      var protectedBytes = outer[0], payload = outer[2], signature = outer[3];
      [protectedBytes, payload, signature].forEach(function (part) {
        if (!(part instanceof Uint8Array)) fail("COSE_Sign1 parts are not byte strings");
      });
      var header = cbor(protectedBytes), body = cbor(payload);
      if (!isDict(header) || numeric(get(header, HEADER_ALG)) !== ALG_ES256) fail("alg is not ES256");
      var kid = get(header, HEADER_KID);
      if (!(kid instanceof Uint8Array) || kid.length !== 8) fail("kid is not 8 bytes");
      return claimsOf(body).then(function (claims) {
        return { kid: toHex(kid), protected: protectedBytes, payload: payload, signature: signature, claims: claims };
      });
    });
  }

  function claimsOf(body) {
    if (!isDict(body) || !isDict(get(body, CLAIM_PASS))) fail("claims are not a map");
    var fields = get(body, CLAIM_PASS);
    var times = [CLAIM_IAT, CLAIM_NBF, CLAIM_EXP].map(function (key) {
      var value = get(body, key);
      if (!isInteger(value)) fail("iat, nbf, exp must be integers");
      return value;
    });
    var passId = get(fields, F_ID), zones = get(fields, F_ZONES), kind = get(fields, F_KIND);
    var texts = [get(body, CLAIM_ISS), kind, get(fields, F_HOLDER), get(fields, F_UNIT), get(fields, F_STATUS)];
    if (!(passId instanceof Uint8Array) || passId.length !== 16) fail("pass id is not 16 bytes");
    if (!texts.every(function (t) { return typeof t === "string"; }) || KINDS.indexOf(kind) < 0) fail("bad text claim");
    if (!Array.isArray(zones) || !zones.every(function (z) { return typeof z === "string"; })) fail("zones are not a list of text");
    var printed = get(fields, F_PRINTED);
    if (printed === undefined) printed = false;
    if (typeof printed !== "boolean") fail("printed is not a boolean");
    var device = get(fields, F_DEVICE_KEY);
    var point = device === undefined || device === null ? null : devicePoint(device);
    var claims = {
      issuer: texts[0],
      pass_id: passId,
      kind: kind,
      holder: texts[2],
      unit: texts[3],
      zones: zones.slice(),
      status: texts[4],
      issued_at: times[0],
      not_before: times[1],
      expires: times[2],
      device_key: point,
      device: null, // the device key, imported
      hash: null, // SHA-256 of the pass id, once computed
      printed: printed
    };
    if (!point) return Promise.resolve(claims);
    return publicKey(point).then(function (key) { // on the curve, or the pass is malformed
      claims.device = key;
      return claims;
    });
  }

  // format.device_point: a 65-byte point, a COSE_Key (EC2, P-256) or a JWK.
  function devicePoint(value) {
    if (value instanceof Uint8Array && value.length === 65) return value;
    if (isDict(value) && get(value, "kty") !== undefined) {
      var jwk = {};
      value.entries.forEach(function (entry) { if (typeof entry[0] === "string") jwk[entry[0]] = entry[1]; });
      ["kty", "crv", "x", "y"].forEach(function (name) { jwk[name] = get(value, name); });
      return pointOfJwk(jwk);
    }
    if (isDict(value)) {
      var x = get(value, -2), y = get(value, -3);
      if (numeric(get(value, 1)) !== 2 || numeric(get(value, -1)) !== 1 || !(x instanceof Uint8Array)) {
        fail("device key is not an EC2 P-256 COSE_Key");
      }
      if (!(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) fail("device key is not an EC2 P-256 COSE_Key");
      return concat(new Uint8Array([4]), x, y);
    }
    return fail("device key must be a 65-byte point, a COSE_Key or a JWK");
  }

  // ---------------------------------------------------------------- the verdict

  function warningsAt(trustList, clock, clockOffset) {
    var found = [];
    if (trustList.valid_until - clock < TRUST_LIST_WARN_SECONDS) found.push(TRUST_LIST_EXPIRING);
    if (Math.abs(clockOffset) > CLOCK_WARN_SECONDS) found.push(CLOCK_OFF);
    return found;
  }
  function warnings(trustList, now, clockOffset) {
    return warningsAt(trustList, (now === undefined ? Date.now() : now) / 1000, (clockOffset || 0) / 1000);
  }

  function verdict(reason, detail, claims, found) {
    return {
      ok: reason === OK,
      code: reason,
      reason: reason,
      detail: detail,
      message_zh: MESSAGES_ZH.details[detail] || MESSAGES_ZH.reasons[reason],
      warnings: found,
      warning_messages_zh: found.map(function (w) { return MESSAGES_ZH.warnings[w]; }),
      claims: claims
    };
  }
  function shown(claims) {
    return (claims.hash ? Promise.resolve(claims.hash) : sha256(claims.pass_id)).then(function (hash) {
      claims.hash = hash;
      return {
        issuer: claims.issuer,
        pass_id_hex: toHex(claims.pass_id),
        pass_id_hash: toHex(hash),
        kind: claims.kind,
        holder: claims.holder,
        unit: claims.unit,
        zones: claims.zones.slice(),
        colour: claims.status,
        printed: claims.printed,
        device_key: claims.device_key ? toHex(claims.device_key) : null,
        iat: claims.issued_at,
        nbf: claims.not_before,
        exp: claims.expires
      };
    });
  }
  function listOf(value, otherwise) { // an array, a Set or one text
    if (value === undefined || value === null) return otherwise;
    return typeof value === "string" ? [value] : Array.from(value);
  }
  function policyOf(policy) {
    policy = policy || {};
    var zones = policy.zones !== undefined ? policy.zones : policy.zone;
    var admit = policy.admit_statuses !== undefined ? policy.admit_statuses : policy.admit_colours;
    return {
      zones: listOf(zones, []),
      admit_statuses: listOf(admit, ["green"]),
      refuse_printed: !!policy.refuse_printed,
      refuse_without_device_key: !!policy.refuse_without_device_key,
      outsiders_banned: !!policy.outsiders_banned
    };
  }
  function isRevoked(revoked, kid, hash) {
    var set = revoked && Object.prototype.hasOwnProperty.call(revoked, kid) ? revoked[kid] : null;
    if (!set) return false;
    return typeof set.has === "function" ? set.has(hash) : Array.prototype.indexOf.call(set, hash) >= 0;
  }
  function windowAccepted(window, nowMs) {
    return Math.floor((nowMs - PROOF_TOLERANCE_MS) / WINDOW_MS) <= window &&
      window <= Math.floor((nowMs + PROOF_TOLERANCE_MS) / WINDOW_MS);
  }

  function verify(code, options) {
    options = options || {};
    var trustList = options.trustList;
    if (!trustList || typeof trustList.valid_until !== "number") {
      return Promise.resolve(verdict(TRUST_LIST_EXPIRED, "", null, [])); // no list yet: fail safe
    }
    var nowMs = typeof options.now === "number" ? options.now : Date.now();
    var clock = nowMs / 1000;
    var found = warningsAt(trustList, clock, (options.clockOffset || 0) / 1000);
    if (clock >= trustList.valid_until) return Promise.resolve(verdict(TRUST_LIST_EXPIRED, "", null, found));
    var policy = policyOf(options.policy), split;
    return Promise.resolve().then(function () {
      if (typeof code !== "string") fail("not text");
      split = splitMovingCode(code);
      return decode(split.text);
    }).then(function (decoded) {
      return decide(decoded, trustList, options.revoked, nowMs, policy, split.proof).then(function (decision) {
        if (decision[0] === UNKNOWN_KEY || decision[0] === BAD_SIGNATURE) {
          return verdict(decision[0], decision[1], null, found); // an unsigned claim says nothing
        }
        return shown(decoded.claims).then(function (claims) {
          return verdict(decision[0], decision[1], claims, found);
        });
      });
    }).catch(function () {
      return verdict(MALFORMED, "", null, found);
    });
  }

  function decide(decoded, trustList, revoked, nowMs, policy, proof) {
    var clock = nowMs / 1000, claims = decoded.claims;
    var key = keyAt(trustList, decoded.kid, clock);
    if (!key) return Promise.resolve([UNKNOWN_KEY, ""]);
    return verifyRaw(key.key, decoded.signature, sigStructure(decoded.protected, decoded.payload)).then(function (genuine) {
      if (!genuine) return [BAD_SIGNATURE, ""];
      if (clock < claims.not_before) return [NOT_YET_VALID, ""];
      if (clock >= claims.expires) return [EXPIRED, ""];
      return sha256(claims.pass_id).then(function (hash) {
        claims.hash = hash;
        if (isRevoked(revoked, decoded.kid, toHex(hash))) return [REVOKED, ""];
        if (policy.admit_statuses.indexOf(claims.status) < 0) return [STATUS, ""];
        if (!claims.zones.some(function (z) { return policy.zones.indexOf(z) >= 0; })) return [ZONE, ""];
        if (claims.kind === "visitor" && policy.outsiders_banned) return [ZONE, "outsiders_banned"];
        return presence(claims, policy, proof, nowMs);
      });
    });
  }

  // The anti-screenshot rules: a pass bound to a phone needs a fresh proof from it.
  function presence(claims, policy, proof, nowMs) {
    if (!claims.device_key) {
      if (claims.printed && policy.refuse_printed) return [STALE_PROOF, "printed_refused"];
      if (policy.refuse_without_device_key) return [STALE_PROOF, "no_device_key"];
      return [OK, ""];
    }
    if (!proof || !windowAccepted(proof.window, nowMs)) return [STALE_PROOF, ""];
    return verifyRaw(claims.device, proof.signature, proofMessage(claims.pass_id, proof.window)).then(function (genuine) {
      return genuine ? [OK, ""] : [STALE_PROOF, "proof_signature"];
    });
  }

  window.FKPass = {
    verify: verify,
    verifyTrustList: verifyTrustList,
    warnings: warnings,
    MESSAGES_ZH: MESSAGES_ZH,
    REASONS: [OK, EXPIRED, NOT_YET_VALID, REVOKED, BAD_SIGNATURE, UNKNOWN_KEY, STATUS, ZONE, STALE_PROOF,
      TRUST_LIST_EXPIRED, MALFORMED]
  };
})();
