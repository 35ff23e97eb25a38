/**
 * The contract's field tables (CONTRACT.md section 4), written out independently of src/entities so
 * that the tests check the server against the contract, not against itself.
 * One field a line: name type [nullable] [required] [min..max | ≤max]
 */
export interface ContractField {
  name: string;
  type: 'string' | 'boolean' | 'int32' | 'double' | 'date-time';
  nullable: boolean;
  required: boolean;
  minLength?: number;
  maxLength?: number;
}

function parse(table: string): ContractField[] {
  return table.trim().split('\n').map((line) => {
    const [name, type, ...flags] = line.trim().split(/\s+/);
    const field: ContractField = { name: name!, type: type as ContractField['type'], nullable: flags.includes('nullable'), required: flags.includes('required') };
    for (const flag of flags) {
      const range = /^(\d+)\.\.(\d+)$/.exec(flag);
      if (range) Object.assign(field, { minLength: Number(range[1]), maxLength: Number(range[2]) });
      if (flag.startsWith('max')) field.maxLength = Number(flag.slice(3));
    }
    return field;
  });
}

export const benefitFields = parse(`
  benefit_Code string required 1..10
  allow_Flat_Tax boolean required
  benefit_Category string nullable max32
  benefit_Description string nullable max64
  default_Unit_Type string nullable max16
  entry_Date date-time
  entry_User string nullable max20
  hipaA_Code string nullable max8
  invalid_Diag_Ex_Code string nullable max6
  invalid_Procedure_Ex_Code string nullable max6
  invalid_Prov_Type_Ex_Code string nullable max6
  invalid_Specialty_Ex_Code string nullable max6
  medicare string required 1..1
  pend_Ex_Code string nullable max6
  pend_Flag string required 1..1
  require_Type_Of_Svc string nullable max1
  update_Date date-time
  update_User string nullable max20
`);

export const benefitCategoryFields = parse(`
  benefit_Category string required 1..32
  description string nullable max128
  entry_Date date-time
  entry_User string nullable max20
  update_Date date-time
  update_User string nullable max20
`);

export const groupFields = parse(`
  group_ID string required 1..20
  account_Key int32 nullable
  account_Manager string nullable max128
  addOn_Rate_Option string nullable max8
  address string nullable max255
  address2 string nullable max128
  admin_COBRA boolean required
  adult_Age int32 nullable
  advice_To_Pay boolean required
  apply_Ex_Code boolean required
  auth_Not_Reqd_Override boolean required
  billing_Age_Calc string nullable max1
  billing_Cycle_ID string nullable max2
  billing_Due_Date_Range int32 nullable
  billing_Due_Date_Range_Type string nullable max16
  billing_Due_Date_Type string nullable max32
  billing_Invoice_Create int32 nullable
  billing_Retro_Limit int32 nullable
  caseRate double nullable
  check_Birthday string nullable max1
  city string nullable max25
  claim_Days_Allowed int32 nullable
  coPay_Max_Per_Date_Provider boolean required
  commission_Lookback int32 nullable
  contact_Country_Code string nullable max8
  contact_Email_Address string nullable max128
  contact_Extension string nullable max6
  contact_Phone string nullable max20
  contact_Title string nullable max20
  country_ID string nullable max8
  county_Code string nullable max8
  cutoff_Age int32 nullable
  default_EOB_Report int32 nullable
  default_Invoice_ReportDefinition_Key int32 nullable
  default_Process_by_Disability_Date boolean required
  default_Roll_Up_Waiting_Period boolean required
  disability_Pay_Through_Day int32 nullable
  disable_COBRA_Auto_Select boolean required
  disenroll_Date date-time nullable
  distribution_Account_Key int32 nullable
  distribution_Payor_ID string nullable max20
  duplicate_Claim_Override boolean required
  election_Range int32 nullable
  election_Range_Type string nullable max16
  employer_Size string nullable max8
  entry_Date date-time
  entry_User string nullable max20
  ex_Code string nullable max6
  fax string nullable max20
  fax_Country_Code string nullable max8
  federal_ID string nullable max20
  generate_Adjustments string nullable max1
  generate_Invoices string nullable max1
  group_Account int32 nullable
  individual_Billing boolean required
  individual_Cycle boolean required
  individual_Dates boolean required
  inv_Grace_Period int32 nullable
  inv_Grace_Period_Type string nullable max1
  invoice_Enrolled_By int32 nullable
  invoice_Enrolled_Thru int32 nullable
  issue_State string nullable max2
  name string nullable max50
  notes string nullable
  open_Closed_Enrollment boolean required
  original_Date date-time nullable
  paid_Through date-time nullable
  paperless boolean required
  pay_To_Account int32 nullable
  payor_ID string nullable max20
  phone string nullable max20
  phone_Country_Code string nullable max8
  prepaid_Group boolean required
  primary_Contact string nullable max25
  producer string nullable max128
  prorate_Deduction boolean required
  prorate_Deduction_Type string nullable max10
  rX_BIN string nullable max64
  rX_CS_Contact string nullable max128
  rX_CS_Phone string nullable max32
  rX_GRP string nullable max64
  rX_Name string nullable max512
  rX_PCN string nullable max64
  reason_ID int32 nullable
  region_Code string nullable max32
  renewal_Completion_Date date-time nullable
  renewal_Date date-time nullable
  self_Admin boolean required
  set_Billing_Due_Date boolean required
  state string nullable max2
  subscriber_ID_Prefix string nullable max3
  subscriber_ID_Suffix string nullable max3
  total_Employees int32 nullable
  uC_Percent string nullable max8
  update_Date date-time
  update_User string nullable max20
  use_Employer_State boolean nullable
  zip_Code string nullable max32
`);
