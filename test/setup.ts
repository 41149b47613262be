import { allCustomMatcher } from 'aws-sdk-client-mock-vitest';
import { expect } from 'vitest';
import '#commons/polyfills.ts';

expect.extend(allCustomMatcher);
