import { z } from 'zod';
import { text, textProblem } from './text.js';

/** Up to 100 fields; keys 1–256 characters, values up to 4,096. */
export const customFields = z
  .record(z.string(), text().max(4096, 'must be at most 4096 characters'))
  .superRefine((fields, context) => {
    const keys = Object.keys(fields);
    if (keys.length > 100) context.addIssue({ code: 'custom', message: 'at most 100 fields' });
    for (const key of keys) {
      const problem = key.length === 0 || key.length > 256 ? 'keys must be 1 to 256 characters' : textProblem(key);
      if (problem) context.addIssue({ code: 'custom', path: [key], message: problem });
    }
  });
