// Seeded random protobuf inputs for fuzzing the sidecar: well-formed messages of a schema with
// hostile field values, the same with wrong wire types, duplicated and unknown fields, mutated
// bytes, and plain random bytes. Everything derives from one seed, so a failure replays.
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { createSeededRandom } from "@durabletask/testing";

/** A small seeded PRNG (mulberry32) with the helpers the generators need. */
export class Random {
  readonly #next: () => number;

  constructor(readonly seed: number) {
    this.#next = createSeededRandom(seed);
  }

  /** A float in [0, 1). */
  next(): number {
    return this.#next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  bytes(length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let i = 0; i < length; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** Instance ids the generators reuse, so calls meet instances that earlier calls created. */
export const knownInstanceIds = ["fuzz-a", "fuzz-b", "fuzz-c"];

/** Inputs that mostly pass validation, so the fuzzer also reaches the engine behind it. */
let tame = false;
/**
 * Bytes a message may still grow by: nested repeated fields multiply, and without a bound one
 * message in thousands would take gigabytes to build.
 */
let budget = 0;
const messageBudget = 4 * 1024 * 1024;

function hostileString(rnd: Random): string {
  if (tame) return rnd.chance(0.6) ? rnd.pick(knownInstanceIds) : `n${rnd.int(0, 20)}`;
  switch (rnd.int(0, 13)) {
    case 0:
      return "";
    case 1:
      return rnd.pick(knownInstanceIds);
    case 2:
      return "x".repeat(rnd.pick([1024, 1025, 4096]));
    case 3:
      return "y".repeat(rnd.chance(0.03) ? 1_000_000 : 70_000);
    case 4:
      return "a\u0000b\n\u001f";
    case 5:
      return "\ud800 lone surrogate \udfff";
    case 6:
      return "😀 ünïcödé 名前";
    case 7:
      return "' OR 1=1; DROP TABLE Instances; --";
    case 8:
      return '{"unterminated": [1, 2';
    case 9:
      return "null";
    case 10:
      return "%s%n%x $" + "{x} {{x}}";
    case 11:
      return " ";
    default: {
      const length = rnd.int(1, 40);
      let s = "";
      for (let i = 0; i < length; i++) s += String.fromCharCode(rnd.int(32, 126));
      return s;
    }
  }
}

const invalidUtf8 = [
  new Uint8Array([0xff, 0xfe, 0xfd]),
  new Uint8Array([0x61, 0xc3]),
  new Uint8Array([0xed, 0xa0, 0x80]),
  new Uint8Array([0xc0, 0xaf]),
];

function int32(rnd: Random): number {
  return rnd.pick([0, 1, -1, 2, 0x7fffffff, -0x80000000, 1000, 1001, rnd.int(-1e6, 1e6)]);
}

function uint32(rnd: Random): number {
  return rnd.pick([0, 1, 2, 0xffffffff, 1000, 1001, rnd.int(0, 1e6)]);
}

function int64(rnd: Random): bigint {
  return rnd.pick([
    0n,
    1n,
    -1n,
    9223372036854775807n,
    -9223372036854775808n,
    253402300800n, // year 10000 in seconds
    -62135596801n, // before year 1
    BigInt(Number.MAX_SAFE_INTEGER) + 2n,
    BigInt(Math.floor(Date.now() / 1000) + rnd.int(-100_000, 100_000)),
    BigInt(rnd.int(-1e9, 1e9)),
  ]);
}

function writeScalar(w: BinaryWriter, no: number, type: ScalarType, rnd: Random): void {
  switch (type) {
    case ScalarType.STRING: {
      if (rnd.chance(0.08)) {
        w.tag(no, WireType.LengthDelimited).bytes(rnd.pick(invalidUtf8));
        return;
      }
      const text = hostileString(rnd);
      budget -= text.length;
      w.tag(no, WireType.LengthDelimited).string(budget > 0 ? text : "");
      return;
    }
    case ScalarType.BYTES:
      w.tag(no, WireType.LengthDelimited).bytes(rnd.bytes(rnd.int(0, 64)));
      return;
    case ScalarType.BOOL:
      // Any varint decodes as a bool; not just 0 and 1.
      w.tag(no, WireType.Varint).uint32(rnd.pick([0, 1, 2, 0xffffffff]));
      return;
    case ScalarType.INT32:
      w.tag(no, WireType.Varint).int32(int32(rnd));
      return;
    case ScalarType.SINT32:
      w.tag(no, WireType.Varint).sint32(int32(rnd));
      return;
    case ScalarType.UINT32:
      w.tag(no, WireType.Varint).uint32(uint32(rnd));
      return;
    case ScalarType.INT64:
      w.tag(no, WireType.Varint).int64(int64(rnd));
      return;
    case ScalarType.SINT64:
      w.tag(no, WireType.Varint).sint64(int64(rnd));
      return;
    case ScalarType.UINT64:
      w.tag(no, WireType.Varint).uint64(BigInt.asUintN(64, int64(rnd)));
      return;
    case ScalarType.FIXED32:
      w.tag(no, WireType.Bit32).fixed32(uint32(rnd));
      return;
    case ScalarType.SFIXED32:
      w.tag(no, WireType.Bit32).sfixed32(int32(rnd));
      return;
    case ScalarType.FLOAT:
      w.tag(no, WireType.Bit32).float(rnd.pick([0, -0, Number.NaN, Number.POSITIVE_INFINITY, 1.5]));
      return;
    case ScalarType.FIXED64:
      w.tag(no, WireType.Bit64).fixed64(BigInt.asUintN(64, int64(rnd)));
      return;
    case ScalarType.SFIXED64:
      w.tag(no, WireType.Bit64).sfixed64(int64(rnd));
      return;
    case ScalarType.DOUBLE:
      w.tag(no, WireType.Bit64).double(
        rnd.pick([0, Number.NaN, Number.NEGATIVE_INFINITY, 1e308, -1]),
      );
      return;
  }
}

/** A field number with a payload of a wire type its declaration does not allow (or junk). */
function writeWrongWireType(w: BinaryWriter, no: number, rnd: Random): void {
  switch (rnd.int(0, 4)) {
    case 0:
      w.tag(no, WireType.Varint).uint64(BigInt.asUintN(64, int64(rnd)));
      return;
    case 1:
      w.tag(no, WireType.Bit64).raw(rnd.bytes(8));
      return;
    case 2:
      w.tag(no, WireType.Bit32).raw(rnd.bytes(4));
      return;
    case 3:
      w.tag(no, WireType.LengthDelimited).bytes(rnd.bytes(rnd.int(0, 16)));
      return;
    default:
      // A group start with no end, or an end with no start.
      w.tag(no, rnd.pick([WireType.StartGroup, WireType.EndGroup]));
  }
}

function enumNumber(field: { enum: { values: readonly { number: number }[] } }, rnd: Random) {
  if (!tame && rnd.chance(0.15)) return rnd.pick([-1, 999, 0x7fffffff]);
  return rnd.pick(field.enum.values).number;
}

function writeMessage(w: BinaryWriter, desc: DescMessage, rnd: Random, depth: number): void {
  w.fork();
  if (depth < 6) writeFields(w, desc, rnd, depth + 1);
  w.join();
}

function writeField(w: BinaryWriter, field: DescField, rnd: Random, depth: number): void {
  budget -= 8;
  if (budget <= 0) return;
  const no = field.number;
  if (!tame && rnd.chance(0.04)) {
    writeWrongWireType(w, no, rnd);
    return;
  }
  switch (field.fieldKind) {
    case "scalar":
      writeScalar(w, no, field.scalar, rnd);
      return;
    case "enum":
      w.tag(no, WireType.Varint).int32(enumNumber(field, rnd));
      return;
    case "message":
      w.tag(no, WireType.LengthDelimited);
      writeMessage(w, field.message, rnd, depth);
      return;
    case "list":
      for (let n = rnd.int(0, rnd.chance(0.05) ? 300 : 3); n > 0; n--) {
        if (field.listKind === "scalar") writeScalar(w, no, field.scalar, rnd);
        else if (field.listKind === "enum")
          w.tag(no, WireType.Varint).int32(enumNumber(field, rnd));
        else {
          w.tag(no, WireType.LengthDelimited);
          writeMessage(w, field.message, rnd, depth);
        }
      }
      return;
    case "map":
      for (let n = rnd.int(0, 3); n > 0; n--) {
        w.tag(no, WireType.LengthDelimited).fork();
        writeScalar(w, 1, field.mapKey, rnd);
        if (field.mapKind === "scalar") writeScalar(w, 2, field.scalar, rnd);
        else if (field.mapKind === "enum") w.tag(2, WireType.Varint).int32(enumNumber(field, rnd));
        else {
          w.tag(2, WireType.LengthDelimited);
          writeMessage(w, field.message, rnd, depth);
        }
        w.join();
      }
      return;
  }
}

function writeFields(w: BinaryWriter, desc: DescMessage, rnd: Random, depth: number): void {
  for (const field of desc.fields) {
    if (rnd.chance(0.45)) continue;
    // Duplicated fields: the last scalar wins, messages merge, lists append.
    for (let times = rnd.chance(0.08) ? rnd.int(2, 3) : 1; times > 0; times--) {
      writeField(w, field, rnd, depth);
    }
  }
  if (!tame && rnd.chance(0.1)) writeWrongWireType(w, rnd.int(100, 536_870_911), rnd);
}

/**
 * A message of `desc` with random, often hostile, field values (see the file comment); `gentle`
 * ones use known ids and short names and keep to the declared wire types and enum values.
 */
export function randomMessage(desc: DescMessage, rnd: Random, gentle = false): Uint8Array {
  const w = new BinaryWriter();
  tame = gentle;
  budget = messageBudget;
  try {
    writeFields(w, desc, rnd, 0);
  } finally {
    tame = false;
  }
  return w.finish();
}

/** The shortest field path from `desc` to a message type that contains itself, if any. */
function pathToRecursion(desc: DescMessage): { path: number[]; selfField: number } | undefined {
  const queue: { message: DescMessage; path: number[] }[] = [{ message: desc, path: [] }];
  const seen = new Set<string>();
  while (queue.length > 0) {
    const { message, path } = queue.shift() as { message: DescMessage; path: number[] };
    if (seen.has(message.typeName)) continue;
    seen.add(message.typeName);
    for (const field of message.fields) {
      const child =
        field.fieldKind === "message" ||
        (field.fieldKind === "list" && field.listKind === "message")
          ? field.message
          : undefined;
      if (child === undefined) continue;
      if (child.typeName === message.typeName) return { path, selfField: field.number };
      queue.push({ message: child, path: [...path, field.number] });
    }
  }
  return undefined;
}

/**
 * A message of `desc` nested about `levels` deep through a self-referencing message (e.g.
 * failure details with inner failures); empty when the schema has no recursion.
 */
export function deeplyNested(desc: DescMessage, levels: number): Uint8Array {
  const recursion = pathToRecursion(desc);
  if (recursion === undefined) return new Uint8Array();
  const chain = [...recursion.path, ...Array<number>(levels).fill(recursion.selfField)];
  let inner: Uint8Array = new Uint8Array();
  for (let i = chain.length - 1; i >= 0; i--) {
    const w = new BinaryWriter();
    w.tag(chain[i] as number, WireType.LengthDelimited).bytes(inner);
    inner = w.finish();
  }
  return inner;
}

/** `bytes` with random flips, truncation, insertions or appended junk. */
export function mutate(bytes: Uint8Array, rnd: Random): Uint8Array {
  let out = bytes;
  for (let n = rnd.int(1, 4); n > 0; n--) {
    const at = rnd.int(0, out.length);
    switch (rnd.int(0, 3)) {
      case 0:
        if (out.length > 0) {
          out = out.slice();
          out[at % out.length] = rnd.int(0, 255);
        }
        break;
      case 1:
        out = out.subarray(0, at);
        break;
      case 2:
        out = concat(out.subarray(0, at), rnd.bytes(rnd.int(1, 8)), out.subarray(at));
        break;
      default:
        out = concat(out, rnd.bytes(rnd.int(1, 16)));
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** One fuzz input for a method whose request is `desc`. */
export function fuzzInput(desc: DescMessage, rnd: Random): Uint8Array {
  const kind = rnd.next();
  if (kind < 0.25) return randomMessage(desc, rnd, true);
  if (kind < 0.55) return randomMessage(desc, rnd);
  if (kind < 0.8) return mutate(randomMessage(desc, rnd), rnd);
  if (kind < 0.97) return rnd.bytes(rnd.int(0, 200));
  return deeplyNested(desc, rnd.pick([50, 5000]));
}
