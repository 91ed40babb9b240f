import { z } from 'zod';
import { decimalInput } from '../../lib/money.js';

/** Fields every contract request schema shares. */

/** An id the request names (a customer's, a contract's, a product's…): checked against what exists later. */
export const id = z.string().min(1, 'must not be empty');

export const nonNegativeDecimal = decimalInput.refine((value) => value.gte(0), 'must be 0 or more');
