import { describe, expect, it } from 'vitest';
import { DEFAULT_PROFILE, parseProfileArgument, profileDataPath } from './profile';

describe('--profile', () => {
  it('reads the name in both spellings, and defaults without the flag', () => {
    expect(parseProfileArgument(['app', '--profile', 'laptop'])).toBe('laptop');
    expect(parseProfileArgument(['app', '--profile=desk_top-2'])).toBe('desk_top-2');
    expect(parseProfileArgument(['app', '--inspect'])).toBe(DEFAULT_PROFILE);
  });

  it('refuses a missing value and names that are not plain folder names', () => {
    expect(() => parseProfileArgument(['app', '--profile'])).toThrow('--profile needs a name');
    expect(() => parseProfileArgument(['app', '--profile', '--other'])).toThrow('--profile needs a name');
    for (const bad of ['../x', 'a/b', '.hidden', 'with space', '', 'x'.repeat(33)]) {
      expect(() => parseProfileArgument(['app', `--profile=${bad}`])).toThrow(/use 1 to 32 letters/);
    }
  });

  it('puts each profile in its own folder under userData', () => {
    expect(profileDataPath('/home/a/.config/CPM Handoff/', 'laptop')).toBe('/home/a/.config/CPM Handoff/profiles/laptop');
    expect(profileDataPath('C:\\Users\\a\\AppData', 'desk', '\\')).toBe('C:\\Users\\a\\AppData\\profiles\\desk');
  });
});
