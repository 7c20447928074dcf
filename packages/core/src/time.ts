/**
 * Simulated time is an integer number of nanoseconds held in a JS number: exact up to
 * 2^53 ns (about 104 days of simulated time). Conversions round to the nearest
 * nanosecond so that `ms(0.1)` is exactly 100_000.
 */
import { IsosimError } from './errors.ts';

export const NS_PER_US = 1_000;
export const NS_PER_MS = 1_000_000;
export const NS_PER_S = 1_000_000_000;

function toNs(value: number, unit: number, what: string): number {
  const n = Math.round(value * unit);
  if (!Number.isSafeInteger(n)) {
    throw new IsosimError('time', what, `${value} does not fit in integer nanoseconds`, 'use a finite value');
  }
  return n;
}

export const us = (value: number): number => toNs(value, NS_PER_US, 'microseconds');
export const ms = (value: number): number => toNs(value, NS_PER_MS, 'milliseconds');
export const seconds = (value: number): number => toNs(value, NS_PER_S, 'seconds');

/** Seconds as a float, for reports only (never fed back into the simulation). */
export const toSeconds = (ns: number): number => ns / NS_PER_S;

export function isTimeNs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
