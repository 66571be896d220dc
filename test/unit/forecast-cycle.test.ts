import { describe } from 'vitest';
import { FileStateStore } from '../../functions/adapters/file-store.js';
import { forecastScenarios } from '../helpers/forecast-world.js';
import { tempStatePath } from '../helpers/harness.js';

describe('the forecast through the real cycle (file store)', () => {
  forecastScenarios(() => new FileStateStore(tempStatePath()));
});
