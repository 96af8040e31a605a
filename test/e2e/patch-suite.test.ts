// The whole e2e patch suite on the machine's kernel (or HOTSPLICE_ABI's: the cases' patches and checks follow its
// series): every case built, then applied, checked and undone in one boot, alone, stacked, and as one atomic-replace
// update; then an apply and an undo that stall (suite/suite.ts).
import { expect, inject, it } from 'vitest';
import { loadCases } from './suite/cases';
import { describeSuite } from './suite/suite';

const kernel = inject('kernel');
const cases = loadCases(kernel.series);

it('has at least 12 positive cases and 3 refusals', () => {
  expect(cases.filter((c) => c.kind === 'positive').length).toBeGreaterThanOrEqual(12);
  expect(cases.filter((c) => c.kind === 'refuse').length).toBeGreaterThanOrEqual(3);
});

describeSuite('the e2e patch suite in the guest', { kernel, cases, replaceAndStall: true });
