/**
 * Debian's Chromium, headless, driven by playwright-core (no browser download: the executable is
 * /usr/bin/chromium, or $CHROMIUM). Every launch gets a fresh profile (playwright passes its own new
 * --user-data-dir and refuses one in `args`), no background network of its own, and WebGL through ANGLE
 * on SwiftShader: with --disable-gpu, headless Chromium 156 has no WebGL unless
 * --enable-unsafe-swiftshader is given (checked: WebGL 2.0 on "SwiftShader Device (Subzero)"). WebGPU likewise
 * on SwiftShader (flags below).
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined when they can. */
export function chromiumMissing(): string | undefined {
  return fs.existsSync(CHROMIUM) ? undefined : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
}

export interface LaunchedBrowser {
  readonly browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-gl=angle',
      '--use-angle=swiftshader',
      '--enable-unsafe-swiftshader',
      // WebGPU on SwiftShader's Vulkan (Chromium ships libvk_swiftshader.so): checked, an adapter
      // "google / swiftshader" and a device, in a secure context (http://127.0.0.1 is one, data: is not).
      '--enable-unsafe-webgpu',
      '--use-webgpu-adapter=swiftshader',
    ],
  });
  return {
    browser,
    async close() {
      await browser.close();
    },
  };
}
