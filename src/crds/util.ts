/** Small helpers shared by the CRD wrappers. */

/** The member of a generated string enum whose value is `value` (throws with the allowed values). */
export function enumMember<E extends string>(enumObject: Record<string, E>, value: string, what = 'value'): E {
  const member = Object.values(enumObject).find((v) => v === value);
  if (member === undefined) throw new Error(`unsupported ${what} ${JSON.stringify(value)} (one of ${Object.values(enumObject).join(', ')})`);
  return member;
}

/** Throws unless `value` is an int32 ≥ `min`, naming the object and the field. */
export function requireInt(where: string, field: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min || value > 2 ** 31 - 1) {
    throw new Error(`${where}: ${field} must be an integer ≥ ${min}, got ${value}`);
  }
}
