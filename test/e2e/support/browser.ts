/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { expect } from 'vitest';
import { packageRoot } from '../../../src/paths.js';

/** Screenshots of the reports, kept after the run (test artifacts). */
export const ARTIFACTS = join(packageRoot(), 'reports', 'test-artifacts');

/**
 * Opens report.html in Debian's headless Chromium (scripts/chromium.sh): no console errors, no request
 * leaves the file, and every chart is drawn on a canvas with something on it. Keeps a screenshot.
 */
export async function checkInBrowser(file: string, screenshot: string): Promise<{ charts: number; drawn: number }> {
  const executablePath = process.env.OTEL_HARNESS_CHROMIUM ?? '/usr/bin/chromium';
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) problems.push(`request: ${r.url()}`);
    });
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('body[data-charts-drawn]');
    const counts = await page.evaluate(() => {
      const charts = Array.from(document.querySelectorAll<HTMLElement>('.chart'));
      // A canvas with non-blank pixels: uPlot drew axes and series on it.
      const drawn = charts.filter((c) => {
        const canvas = c.querySelector<HTMLCanvasElement>('canvas');
        if (canvas === null || canvas.width === 0) return false;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) return true;
        return false;
      }).length;
      return { charts: charts.length, drawn };
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(problems).toEqual([]);
    return counts;
  } finally {
    await browser.close();
  }
}
