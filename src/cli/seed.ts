import type { InputRow, Source } from './sources.js';

/**
 * `vbapi seed`: plausible demo records, generated here from small word lists and a seeded random
 * sequence (the same data every run), for sandboxes and demos. Nothing is copied from anywhere.
 */
const CATEGORIES = [
  'Medical', 'Dental', 'Vision', 'Pharmacy', 'Mental Health', 'Maternity', 'Chiropractic', 'Physical Therapy', 'Hearing',
  'Preventive Care', 'Emergency', 'Urgent Care', 'Hospital Inpatient', 'Hospital Outpatient', 'Laboratory', 'Radiology',
  'Durable Equipment', 'Home Health', 'Hospice', 'Skilled Nursing', 'Telehealth', 'Wellness', 'Orthodontia', 'Acupuncture',
  'Allergy', 'Dermatology', 'Oncology', 'Cardiology', 'Transplant', 'Ambulance',
];
const SERVICES = ['Office Visit', 'Specialist Visit', 'Screening', 'Therapy Session', 'Procedure', 'Consultation', 'Follow-up', 'Exam', 'Supplies', 'Imaging'];
const COMPANY_WORDS = ['Acme', 'Northwind', 'Blue Ridge', 'Summit', 'Harbor', 'Pioneer', 'Cedar', 'Granite', 'Maple', 'Lakeside', 'Riverbend', 'Evergreen', 'Redwood', 'Silverline', 'Keystone', 'Prairie'];
const COMPANY_KINDS = ['Manufacturing', 'Logistics', 'Health Partners', 'Foods', 'Builders', 'Software', 'Schools', 'Credit Union', 'Hospitality', 'Energy'];
const STREETS = ['Main St', 'Oak Ave', 'Elm St', 'Park Blvd', 'Washington St', 'Lake Dr', 'Hillcrest Rd', 'Market St', 'Cedar Ln', 'Sunset Ave'];
const CITIES: [string, string, string][] = [
  ['Springfield', 'IL', '627'], ['Madison', 'WI', '537'], ['Portland', 'OR', '972'], ['Austin', 'TX', '787'], ['Columbus', 'OH', '432'],
  ['Raleigh', 'NC', '276'], ['Boise', 'ID', '837'], ['Omaha', 'NE', '681'], ['Richmond', 'VA', '232'], ['Tucson', 'AZ', '857'],
];
const PEOPLE = ['Alex Morgan', 'Jordan Lee', 'Casey Rivera', 'Taylor Brooks', 'Sam Patel', 'Jamie Chen', 'Riley Johnson', 'Drew Nguyen', 'Morgan Smith', 'Avery Garcia'];

/** Mulberry32: a tiny deterministic generator, so every seed run produces the same demo data. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export function seedRecords(counts: { categories: number; benefits: number; groups: number }): Record<'benefit-categories' | 'benefits' | 'groups', Record<string, unknown>[]> {
  const next = random(14);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const between = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));
  const date = (fromYear: number, toYear: number) =>
    `${between(fromYear, toYear)}-${String(between(1, 12)).padStart(2, '0')}-${String(between(1, 28)).padStart(2, '0')}`;

  const categories = Array.from({ length: counts.categories }, (_, index) => {
    const name = index < CATEGORIES.length ? CATEGORIES[index]! : `${pick(CATEGORIES)} ${index}`;
    return { benefit_Category: name.toUpperCase().slice(0, 32), description: `${name} benefits` };
  });
  const benefits = Array.from({ length: counts.benefits }, (_, index) => {
    const category = pick(categories).benefit_Category;
    return {
      benefit_Code: `B${String(index + 1).padStart(4, '0')}`,
      benefit_Category: category,
      benefit_Description: `${category.charAt(0)}${category.slice(1).toLowerCase()} ${pick(SERVICES)}`.slice(0, 64),
      allow_Flat_Tax: next() < 0.2,
      medicare: next() < 0.3 ? 'Y' : 'N',
      pend_Flag: next() < 0.1 ? 'Y' : 'N',
      default_Unit_Type: pick(['Visits', 'Days', 'Units', 'Services']),
    };
  });
  const groups = Array.from({ length: counts.groups }, (_, index) => {
    const [city, state, zip] = pick(CITIES);
    const name = `${pick(COMPANY_WORDS)} ${pick(COMPANY_KINDS)}`;
    const flags = ['admin_COBRA', 'advice_To_Pay', 'apply_Ex_Code', 'auth_Not_Reqd_Override', 'coPay_Max_Per_Date_Provider', 'default_Process_by_Disability_Date',
      'default_Roll_Up_Waiting_Period', 'disable_COBRA_Auto_Select', 'duplicate_Claim_Override', 'individual_Billing', 'individual_Cycle', 'individual_Dates',
      'open_Closed_Enrollment', 'paperless', 'prepaid_Group', 'prorate_Deduction', 'self_Admin', 'set_Billing_Due_Date'];
    return {
      group_ID: `G${String(index + 1).padStart(5, '0')}`,
      name: name.slice(0, 50),
      address: `${between(10, 9999)} ${pick(STREETS)}`,
      city,
      state,
      zip_Code: `${zip}${String(between(0, 99)).padStart(2, '0')}`,
      country_ID: 'USA',
      phone: `(${between(200, 989)}) 555-${String(between(0, 9999)).padStart(4, '0')}`,
      contact_Email_Address: `benefits@${name.toLowerCase().replace(/[^a-z]+/g, '')}.example`,
      primary_Contact: pick(PEOPLE),
      total_Employees: between(5, 5000),
      adult_Age: 18,
      cutoff_Age: 26,
      original_Date: date(2005, 2022),
      renewal_Date: date(2025, 2027),
      issue_State: state,
      ...Object.fromEntries(flags.map((flag) => [flag, next() < 0.3])),
    };
  });
  return { 'benefit-categories': categories, benefits, groups };
}

/** Records as an import source (progress = records done of the total). */
export function memorySource(records: readonly Record<string, unknown>[]): Source {
  let done = 0;
  async function* rows(): AsyncGenerator<InputRow> {
    for (const [index, record] of records.entries()) {
      done = index + 1;
      yield { row: index + 1, record };
    }
  }
  return { rows: rows(), progress: () => ({ done, total: records.length }) };
}

