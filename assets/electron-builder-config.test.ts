import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { readIcns, ICNS_TYPES } from './tools/icns-writer';
import { readIco } from './tools/ico-writer';
import { readPngInfo } from './tools/png-info';
import { ICON_SIZES, ICO_SIZES, TRAY_VARIANTS } from './tools/icon-sizes';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const config = parse(readFileSync(join(REPO, 'electron-builder.yml'), 'utf8')) as Record<string, unknown>;
const schema = JSON.parse(readFileSync(join(REPO, 'node_modules', 'app-builder-lib', 'scheme.json'), 'utf8')) as object;

const png = (path: string) => readPngInfo(new Uint8Array(readFileSync(join(REPO, path))));

describe('electron-builder.yml', () => {
  it("is valid against electron-builder's own JSON schema (app-builder-lib/scheme.json)", () => {
    // ajv 6 knows draft-07, the schema's $schema, out of the box.
    const ajv = new Ajv({ allErrors: true });
    const validate = ajv.compile(schema);
    const valid = validate(config);
    expect(ajv.errorsText(validate.errors)).toBe('No errors');
    expect(valid).toBe(true);
    // The schema really is applied: an unknown key is refused.
    expect(validate({ ...config, iconn: 'x' })).toBe(false);
  });

  it('names only files and folders that exist', () => {
    const section = (name: string) => config[name] as Record<string, unknown>;
    const named = [
      (config['directories'] as Record<string, string>)['buildResources']!,
      section('linux')['icon'] as string,
      section('win')['icon'] as string,
      section('mac')['icon'] as string,
      section('dmg')['icon'] as string,
      section('nsis')['installerIcon'] as string,
      section('nsis')['uninstallerIcon'] as string,
      ...(config['extraResources'] as Array<{ from: string }>).map((r) => r.from),
    ];
    const missing = named.filter((path) => !existsSync(join(REPO, path)));
    expect(missing).toEqual([]);
    expect(statSync(join(REPO, section('linux')['icon'] as string)).isDirectory()).toBe(true);
  });
});

describe('the rendered icons', () => {
  it('has a square RGBA PNG of every size the targets need, 16 to 1024', () => {
    for (const size of ICON_SIZES) expect(png(`assets/icons/${size}x${size}.png`)).toEqual({ width: size, height: size, bitDepth: 8, colourType: 6 });
  });

  it('packs icon.ico with a PNG per Windows size and icon.icns with every macOS element', () => {
    const ico = readIco(new Uint8Array(readFileSync(join(REPO, 'assets/icons/icon.ico'))));
    expect(ico.map((e) => readPngInfo(e.data).width)).toEqual(ICO_SIZES);
    const icns = readIcns(new Uint8Array(readFileSync(join(REPO, 'assets/icons/icon.icns'))));
    expect(icns.map((e) => [e.type, readPngInfo(e.data).width])).toEqual(ICNS_TYPES.map((t) => [t.type, t.pixels]));
  });

  it('has each tray image at 16 px and @2x (32 px), including the macOS template', () => {
    expect(TRAY_VARIANTS.map((v) => v.stem)).toContain('trayTemplate');
    for (const { stem } of TRAY_VARIANTS) {
      expect(png(`assets/tray/${stem}.png`).width).toBe(16);
      expect(png(`assets/tray/${stem}@2x.png`).width).toBe(32);
    }
  });
});
