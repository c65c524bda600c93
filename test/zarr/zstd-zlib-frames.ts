/**
 * zstd frames written by Node's built-in zstd (`node:zlib` of Node 22.15.0,
 * libzstd 1.5.6) with `zstdCompressSync(data, { pledgedSrcSize, params })`,
 * so that tests on runtimes without it (Node 20) still decode frames of
 * that backend. `data` is {@link zlibFixtureData}.
 *
 * @module
 */

/** The 2048 float32 values (8192 bytes, little-endian) every frame holds. */
export function zlibFixtureData(): Uint8Array {
  const a = new Float32Array(2048);
  for (let i = 0; i < a.length; i++) a[i] = Math.round(Math.sin(i / 40) * 20) / 4 + ((i * 7) % 3);
  return new Uint8Array(a.buffer);
}

/** One frame: the level and checksum flag it was written with, and its bytes in base64. */
export interface ZlibFixtureFrame {
  readonly level: number;
  readonly checksum: boolean;
  readonly base64: string;
}

/** Frames at level 3 with checksum, 19 without, -5 (a "fast" level) with. */
export const ZLIB_FRAMES: Readonly<Record<string, ZlibFixtureFrame>> = {
  l3: {
    level: 3,
    checksum: true,
    base64:
      "KLUv/WQAH+UYAJLPJxuwJenQwYBySXQ4GHir1SvUULc0DlI7x7FaLlIED82SoFMxSgoNasBTdrEQK0aH6hDbMc09R4ZpEDeE" +
      "VIkGwD525mJYCpITBuLCsYiAgAuz5HhdT99p10DlCS6QjnRiOD7G+HmVjtz+9+DnbV9uJ6t4ALZFFjZti6bbmuPgENdxGEbg" +
      "xCC0Rq2ztFatAyf7fOzWrNa4tbXmLQC2Jq3BNoHFqEHeBUmh/Q2BBiJCNHUbEiAjEI4lEI0KiRMqJZyoJBCRSAIJZsI0Dxct" +
      "x6pn4mwZ8hwRLaEYrAxZXBqCgD4IxSIEjCHNK3aklUEIZqYxnoYKkKwdMmdliO+IaIRi4GVBbXWiculBKBZiwAipvGNHrBiG" +
      "YDKN4W1IgMibb76stUA0eDFeK7dXfduP3zO3oqFn/lMbzpd4X11u3wZ+W7877dbMY9VPRnV6/lW1sRi2mJx5OxnfxvV5P1t/" +
      "8zZfapLBkWjMiDHme2fAAE8555VhJFlDEor0okIuqNR8VI9kbxjRnFYg//9738e+4vZ89soSTB/varEJGvu6uyQkpHU8UHJ+" +
      "CKttS00MoqdT3dOjDwh4l5vf32OucLsRhTt9POjLOz+vqYxrcf25x+Ub/vlBYKGwPLVFedI137cTvwvSYLi14P3W76+TnKJ7" +
      "q5NfN9d8Fxyk9CRkTb+QHeIxklyWrqvKu32zmjFrPrJ0JNDuvb0RCAnnGz2cwh/3xN/5pZ/9N39U5sv5OI4CqaNaLm7zP+yE" +
      "UK+R6drsAynCb7gNyRyzyWJtrDfzzedLN3kcl1HaRYV7hIot7H9JuCOoewHfhQCAwwHLkekftOfr6SE9F95gbAswh6apo8+/" +
      "E7OH3hemt+sZ3gnmCcEN5MDgSfd06YMcy/P4Ls2xHUME4OrNme493Q2OwJU3ffaeApiWAc/58eNjYBepnYbRLvr3HHpPP+JI" +
      "IBrqp+PHRwKXd/Kt//PuyZGAo/ErXeX7vf7ik6aWtxPszXXB7XHz4f+/8LY93vBk745nfN1AB57odRB/7HO6d2HSPy+PyBjO" +
      "1yWbGmAxmnFODqgAYAryhD0D",
  },
  l19: {
    level: 19,
    checksum: false,
    base64:
      "KLUv/WAAH8URAMbUMhqwJx3AIIhuRVVFGVFUVXyVLQKBuNvSeBeVAikAKAAxALdfqGMm1Exwp0nh3xZFEZI8lJEKoet8idSh" +
      "VQ3aR+1Rv/coH8CveYQHPTUdofWPmkU2a9vkUp9E+hxSSKGfqTJTBvnnyUuDzxpLBJ8tZEU/C2hUYRxZLO1IipPaBdhDbAOI" +
      "a5P4cDqYvOVqIokgmlHrOnUiVpBUMixDHkZQJVQ1tQEdTfHGhZfpjblTNL2LHdf1IIXDlaiScLPf7B9rr2QtOHU9h2d9YxdP" +
      "gWiogX0b0v4bUUuQNslwUiAIiU/Q4YmAEEElwrpQIomRErFwAz4da6U/Wshi+sfgxcYtFf+yvUxkNMOenH4yIj297lv5VLLq" +
      "Hci7Bhd1RjtUabKTA+Ibeiz8E6PkiGf9lk85W52dZWhAi4FTQ35vepRpCei3p24hrNiK5GSDOn4syQWE2IVW76RMC/U7bXcg" +
      "EvIkYaSt7uxYaC0QPJ5m2c1vUCEY6VTGcKRIs1tMGE8I7yvq/vUddb80bsrGEQrf3o/IDiLVQaG6gKNZkhCu0iJSUGb4/ekI" +
      "l7EenaiRXByKP0wem8vGmj9sVx3UUA7mlWIONG+pDc4kHU6y4eT1vqCc/g3omIBu6ZwUoMbHjeDxTXp/8qksehEm0r+Q+sH6" +
      "TuUuuVrvL5QfsBn1mqEUgc16accpcUt5aKNOc1PYxLxmdF1kBn/PlLc0n3yga9oTnof//W/sPMIYUtiMtoe+bMGiKpiog20R" +
      "+AI=",
  },
  lm5: {
    level: -5,
    checksum: true,
    base64:
      "KLUv/WQAHz03ANRJAAAAAAAAgD8AABBAAACAPgAAwD8AACBAAABAPwAA4D8AAEBAAACAPwAAEEAAAFBAAADAPwAAIEAAAHBA" +
      "AADgPwAAQEAAAIBAAAAQQAAAUEAAAJBAAAAgQAAAYEAAAJhAAAAwQAAAgEAAAKBAAABAQAAAiEAAAKhAAABgQAAAkEAAALBA" +
      "AABwQAAAmEAAALjAQAAAiMhAAACI0LBAAADQuEAAANi4QAAA2MBAAADg4NCoQAAAyIC4YEAAAIhAQAAAgDAgQAAAUBBAAABA" +
      "4D8AADDAUEAAAIA/AAAAQAAAMEAAAEA/IEAAAIA+AACgPwAAAAAAQD8AvwAAAD9AvwAAAACgvwAAgL4AAAA/AADAvwAAQL/g" +
      "vwAAgL8QwAAAoL8gwAAA4L8wwAAAAMAAAIC/AABQwGDAAAAgwAAAwL8AAHDAAAAwgMAAAECIwAAAUIjAAABgkMAAAGCYwAAA" +
      "cMCgwAAAgMAAAEDAABDAvwAAUKC/AABAwAAAAMAAAEC/AL8AACCAvj+AvgAAQD8AAAAAoD8/AACAvgBAAAAAEEAAAAAwQAAA" +
      "QEBAAACgYEAAAMBwQAAAAIhAkEAAACCYoLBAAABguEAAAHDAQAAAgNhAAACYkEAAALDIQAAAiHBAAACYYEAAAJBQoEAAAECY" +
      "QAAAMCBAAABQAHBAAADgPwAAIEAAoD8AAOA/AD8AAMCAPgAAgD/APwAAAL8AwAAAgL8AAIC+AMC/AAAAQKC/AABQwL8AAGDg" +
      "vwAAcADAAACAEMAAAIiQwAAAYEDAAACgMMAAAJiQwAAAYADAAACAgL8AAECAPwAAgL8AAIA+AOA/AACAIEAAAABQQAAAoKhA" +
      "AABQyEAAAIi4QAAA2OBAAACg2EAAAJioQAAAyMBAAACAuEAAAHCwQAAAYKhAAABQcEAAAJiA4GA/AADgPwA/AADAgD4AAICA" +
      "vgAAQAC/AACAgL8AAACgvwAAAOC/AABAAMAAAKAQwAAAwDCAvwAAQCDAAADAEMAAAIggwAAAkHDAAAAwQMAAAKAwwAAAmCDA" +
      "AACQUMAAABAAwAAAgOC/AABwwL8AAGC/AABAwEC/AAAgAL8AABDAgD4AAMBAPwAAoIA/AABAPwAAAL/gPwAAABBAAACAIEAA" +
      "AEBQQAAAkGBAAACYcEAAAKCAQAAAqKhAAADQkEAAALiYQAAAwKBAAAC4uEAAANCQQAAAqIhAAACgoEAAALiYQAAAsFBAAACA" +
      "QJhAAAAgUEAAAKAgQAAAAOA/AACAPwAAQL/gvwAAQEC/AAAwEMAAAKBQwAAAEJjAAABwgMAAAEBwwAAAMIjAAABQQMAAAAAw" +
      "wAAA4CDAAADAEMAAAKAwwAAA4EAAABBAiICAQAAAqJhAAADAoEAAALiIQAAAoGBAAACIgL8AAIC/AAAAv8C/AABAIMAAAJgg" +
      "wAAAiIDAAAAwcMAAACCAvwAAMBAAAAAA4IBAAAAQqEAAAGCwQAAAcLhAAACAiEAAALCYQAAAsKhAAABAcEAAAJAwIMAAAOBg" +
      "wAAAIHDAAAAwADBAwAAAmDDAAACQYMAAABAQwAAAgADAAABw4L8AAGCBwqjxFRHCy6gU2jfRBiJCI8N5EsBCHJ9LCHNChUQy" +
      "EU0kEolEEkyQJGoDywmO8Xu7Ofzxw++B7f+Pu4mDud1Xe+/G725n7339393dwR4ueraff/Y5Nt7DvlyMmtyPubun73991b5O" +
      "Xtix29l7fyYvfPg9sP3/cTdxMLf7avqdvff1f3c7e+/PDrYbT6eLPOG5k0nH+/uzEfHkH8vP6Zd/DX4f3ay+wLisfd/HPX38" +
      "iWKk06nHUyOwBnKEaJLdju7m01yzAbjEtGkvRCtO0/9k/r8iB7rLGthJquj2ytw39qivN0qo+4A70veWaVumXYjuYn6nwZPB" +
      "/P1kCnCKqlo52PWqwqcsy4fPr13bDySlE9lAWG6j5OoU5k++k/STWuXlk7+HbavLsII7pSAMaxzv/60+z5+yZoJR/f4M1vlN" +
      "RxBY9vvYTzG35PaKLoIpRDhXBlteCeITZfPc+GmWkIadUidD+t+bpyd9DMWY9J2V9JNTu2pHdXJh600ln6c/gFCY3EI5g0a4" +
      "sZ6WrPMnPJU4NdaE90oecJKVpDLkfD4Qjvr5k9raeGL+cESOx/R0g/fns6U2l8i0SC43IO4SRJ+OKfP/vK+AvDW1PnUaAAnf" +
      "zEtrhXuElB/F+WP21fODRyM/nRxwH06Ejg2BZz48eTc33ib8j7A5XVRCM/p3bd1YaxffEvpXonY2NI+gyYmO1P1J/jXyB+of" +
      "L/UaPT5xgIkuC6DtluDnXCeOfvON01vxtORxQM/piij/En/xTzxvlkOeqXU6j8crq/KEPQM=",
  },
};
