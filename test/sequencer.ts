import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that start Allot or NATS in processes of their own go first, then vitest's usual order
 * (the slowest first when it has timings from an earlier run, else the largest). Such a file
 * spends much of its time waiting on its processes: started last, it ran alone at the end of a
 * clean run and set the run's length; started first, others run beside it.
 */
const FIRST = [/^test\/cli\//, /^test\/cluster\//];

export default class ProcessesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (file: TestSpecification) => {
      const path = relative(file.project.config.root, file.moduleId).split('\\').join('/');
      const index = FIRST.findIndex((pattern) => pattern.test(path));
      return index === -1 ? FIRST.length : index;
    };
    // Array.prototype.sort is stable: within a rank, vitest's order stays.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
