import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files of `test/cli/` and `test/cluster/` go first, then vitest's usual order (the slowest
 * first when it has timings from an earlier run, else the largest). Those files spend most of their
 * time waiting on the Allot and NATS processes they start: started last, they ran alone at the end
 * of a clean run and set its length; started first, other files run beside them.
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
